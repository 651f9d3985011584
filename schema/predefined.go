package schema

import (
	"embed"
	"io/fs"
)

//go:embed predefined/*.json
var predefined embed.FS

// PredefinedSchemas returns the schemas eda ships, one file per schema
// named after it, in OpenAPI 3 as EventBridge's registry of AWS schemas
// holds them: EventBridge's Scheduled Event (aws.events@ScheduledEvent),
// S3's Object Created (aws.s3@ObjectCreated) and EC2's instance
// state-change notification (aws.ec2@EC2InstanceStateChangeNotification),
// written from the public documentation of those events' shapes. Load them
// with [Registry.LoadFS]. (eda itself puts no events of its own on a bus:
// a dead letter reaches a Go handler as an [eda.DeadLetter] whose Event is
// the original envelope, so there is no eda event shape to ship.)
func PredefinedSchemas() fs.FS {
	sub, err := fs.Sub(predefined, "predefined")
	if err != nil {
		panic(err) // the embedded directory exists: unreachable
	}
	return sub
}
