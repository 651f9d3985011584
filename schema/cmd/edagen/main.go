// Command edagen writes Go types for the events a schema describes:
// EventBridge's code bindings, for Go.
//
//	go run github.com/edakit/eda/schema/cmd/edagen -schema FILE -package P [-name NAME] [-o OUT]
//
// FILE is a schema as a schema.Registry takes it — JSON Schema draft 4 or
// 2020-12, or OpenAPI 3 — of an event envelope. edagen writes, to OUT or
// to standard output, gofmt'd Go source of package P: the detail as a
// struct named after the detail-type, with JSON tags and doc comments, for
// eda.HandlerOf and eda.NewProducer, and constants for its source and
// detail-type (see schema.GenerateGo). NAME, the schema's name for the
// header, defaults to FILE's base name without ".json".
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/edakit/eda/schema"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "edagen:", err)
		os.Exit(2)
	}
}

// run is edagen with its arguments and outputs.
func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("edagen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("schema", "", "the schema `file` (JSON Schema draft 4 or 2020-12, or OpenAPI 3)")
	pkg := fs.String("package", "", "the Go `package` name of the generated code")
	name := fs.String("name", "", "the schema's `name` (default: the file's base name without .json)")
	out := fs.String("o", "", "the output `file` (default: standard output)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *file == "" || *pkg == "" || fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("want -schema FILE -package P")
	}
	content, err := os.ReadFile(*file)
	if err != nil {
		return err
	}
	if *name == "" {
		*name = strings.TrimSuffix(filepath.Base(*file), ".json")
	}
	src, err := schema.GenerateGo(*name, "", content, *pkg)
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = stdout.Write(src)
		return err
	}
	return os.WriteFile(*out, src, 0o644)
}
