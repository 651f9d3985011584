package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Errors of a [Registry].
var (
	// ErrNotFound is wrapped by the error of a call naming a schema or
	// version the registry does not hold.
	ErrNotFound = errors.New("schema: not found")
	// ErrExists is wrapped by the error of [Registry.Create] for a name
	// the registry already holds.
	ErrExists = errors.New("schema: already exists")
	// ErrInvalidName is wrapped by the error of a call given a name that
	// is empty, longer than 385 characters (EventBridge's limit), or holds
	// a '/', a control character or a space.
	ErrInvalidName = errors.New("schema: invalid schema name")
)

// maxNameLength is EventBridge's limit on a schema name.
const maxNameLength = 385

// Name returns the registry name of the schema of events with the given
// source and detail-type, as EventBridge names them: source@DetailType,
// the detail-type's words joined, each begun with a capital
// ("aws.ec2", "EC2 Instance State-change Notification" →
// "aws.ec2@EC2InstanceStateChangeNotification"). A [Validator] looks an
// event's schema up by this name.
func Name(source, detailType string) string {
	return source + "@" + typeName(detailType)
}

// typeName joins the words (runs of letters and digits) of s, each begun
// with a capital.
func typeName(s string) string {
	var b strings.Builder
	start := true
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			start = true
			continue
		}
		if start {
			r = unicode.ToUpper(r)
			start = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

func checkName(name string) error {
	if name == "" || utf8.RuneCountInString(name) > maxNameLength ||
		strings.ContainsFunc(name, func(r rune) bool { return r == '/' || unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return fmt.Errorf("%w: %q: use 1 to %d characters, without '/', spaces or control characters", ErrInvalidName, name, maxNameLength)
	}
	return nil
}

// SchemaVersion is one version of a schema.
type SchemaVersion struct {
	// Name is the schema's name, conventionally source@DetailType ([Name]).
	Name string
	// Version numbers the schema's versions from "1", as EventBridge does.
	Version string
	// Format is the content's format.
	Format Format
	// Content is the schema as it was given.
	Content []byte
	// Source and DetailType are what the schema says of the events it
	// describes (see [Registry.Create]); "" when it does not say.
	Source, DetailType string
	// Created is when the version was created.
	Created time.Time
}

// Summary describes a schema in [Registry.List].
type Summary struct {
	// Name is the schema's name.
	Name string
	// LatestVersion is the version a lookup by name gets.
	LatestVersion string
	// VersionCount counts the schema's versions.
	VersionCount int
	// Format is the latest version's format.
	Format Format
}

// version is a SchemaVersion with its parsed and compiled forms.
type version struct {
	info     SchemaVersion
	doc      *document
	compiled *jsonschema.Schema
	compact  []byte // the content without insignificant space, to compare
}

// entry is a schema: its versions, oldest first.
type entry struct {
	versions []*version
	next     int // the number of the next version
}

func (e *entry) latest() *version { return e.versions[len(e.versions)-1] }

// Registry holds schemas by name, each with numbered versions, in JSON
// Schema (draft 4 or 2020-12) or OpenAPI 3. Every version is compiled when
// it is added (an invalid schema is refused), and its compiled form is
// kept, so validation never compiles. A Registry is safe for concurrent
// use; a [Validator] sees a change as soon as the call making it returns.
type Registry struct {
	mu      sync.RWMutex
	schemas map[string]*entry
}

// NewRegistry returns an empty registry. [PredefinedSchemas] and
// [Registry.LoadFS] fill it with well-known schemas.
func NewRegistry() *Registry {
	return &Registry{schemas: make(map[string]*entry)}
}

// newVersion parses and compiles content.
func newVersion(name string, f Format, content []byte) (*version, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	doc, err := parseDocument(content, f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	compiled, err := doc.compile()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, content); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", name, ErrInvalidSchema, err)
	}
	src, dt := doc.eventType()
	return &version{
		info: SchemaVersion{Name: name, Format: doc.format, Content: bytes.Clone(content),
			Source: src, DetailType: dt, Created: time.Now()},
		doc: doc, compiled: compiled, compact: compact.Bytes(),
	}, nil
}

// add adds v as the next version of e.
func (e *entry) add(v *version) SchemaVersion {
	e.next++
	v.info.Version = strconv.Itoa(e.next)
	e.versions = append(e.versions, v)
	return v.info
}

// Create adds a schema with its first version, "1". The format may be ""
// to detect it: content with "openapi": "3.x" is OpenAPI 3, with a
// "$schema" of 2020-12 is JSON Schema 2020-12, and otherwise JSON Schema
// draft 4 (EventBridge's JSONSchemaDraft4). The schema describes the whole
// event envelope; the source and detail-type it allows (a const or
// single-value enum of properties.source and properties.detail-type, or
// EventBridge's x-amazon-events-source and x-amazon-events-detail-type on
// the envelope schema) are
// reported in [SchemaVersion]. The content must be a valid schema of its
// format whose references stay within it; otherwise the error wraps
// [ErrInvalidSchema]. A name already held is an error wrapping [ErrExists].
func (r *Registry) Create(name string, f Format, content []byte) (SchemaVersion, error) {
	v, err := newVersion(name, f, content)
	if err != nil {
		return SchemaVersion{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.schemas[name]; ok {
		return SchemaVersion{}, fmt.Errorf("%w: %s", ErrExists, name)
	}
	e := &entry{}
	r.schemas[name] = e
	return e.add(v), nil
}

// Update adds a new version to the schema name, checked as Create checks
// it, and returns it. Content equal to the latest version's (ignoring
// insignificant space) in the same format adds no version: Update returns
// the latest. A name the registry does not hold is an error wrapping
// [ErrNotFound].
func (r *Registry) Update(name string, f Format, content []byte) (SchemaVersion, error) {
	return r.put(name, f, content, false)
}

// Put creates the schema name or, when the registry holds it, updates it
// (see [Registry.Create] and [Registry.Update]).
func (r *Registry) Put(name string, f Format, content []byte) (SchemaVersion, error) {
	return r.put(name, f, content, true)
}

func (r *Registry) put(name string, f Format, content []byte, create bool) (SchemaVersion, error) {
	v, err := newVersion(name, f, content)
	if err != nil {
		return SchemaVersion{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.schemas[name]
	switch {
	case !ok && !create:
		return SchemaVersion{}, fmt.Errorf("%w: %s", ErrNotFound, name)
	case !ok:
		e = &entry{}
		r.schemas[name] = e
	case e.latest().info.Format == v.info.Format && bytes.Equal(e.latest().compact, v.compact):
		return e.latest().info, nil
	}
	return e.add(v), nil
}

// find returns version ver ("": the latest) of name.
func (r *Registry) find(name, ver string) (*version, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e, ok := r.schemas[name]
	if !ok {
		return nil, fmt.Errorf("%w: schema %s", ErrNotFound, name)
	}
	if ver == "" {
		return e.latest(), nil
	}
	for _, v := range e.versions {
		if v.info.Version == ver {
			return v, nil
		}
	}
	return nil, fmt.Errorf("%w: schema %s version %s", ErrNotFound, name, ver)
}

// latest returns the latest version of name, or nil.
func (r *Registry) latest(name string) *version {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if e, ok := r.schemas[name]; ok {
		return e.latest()
	}
	return nil
}

// Describe returns version ver of the schema name, or its latest version
// when ver is "". The error wraps [ErrNotFound] when there is none.
func (r *Registry) Describe(name, ver string) (SchemaVersion, error) {
	v, err := r.find(name, ver)
	if err != nil {
		return SchemaVersion{}, err
	}
	info := v.info
	info.Content = bytes.Clone(info.Content)
	return info, nil
}

// Versions returns the versions of the schema name, oldest first; nil
// when the registry does not hold it.
func (r *Registry) Versions(name string) []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e, ok := r.schemas[name]
	if !ok {
		return nil
	}
	out := make([]string, len(e.versions))
	for i, v := range e.versions {
		out[i] = v.info.Version
	}
	return out
}

// List returns the schemas whose name begins with prefix ("" for all),
// sorted by name.
func (r *Registry) List(prefix string) []Summary {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []Summary
	for _, name := range sortedKeys(r.schemas) {
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		e := r.schemas[name]
		out = append(out, Summary{Name: name, LatestVersion: e.latest().info.Version,
			VersionCount: len(e.versions), Format: e.latest().info.Format})
	}
	return out
}

// Delete removes the schema name and all its versions. The error wraps
// [ErrNotFound] when the registry does not hold it.
func (r *Registry) Delete(name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.schemas[name]; !ok {
		return fmt.Errorf("%w: schema %s", ErrNotFound, name)
	}
	delete(r.schemas, name)
	return nil
}

// DeleteVersion removes one version of the schema name; removing its last
// version removes the schema. Version numbers are not reused. The error
// wraps [ErrNotFound] when there is no such version.
func (r *Registry) DeleteVersion(name, ver string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.schemas[name]
	if ok {
		for i, v := range e.versions {
			if v.info.Version == ver {
				e.versions = append(e.versions[:i:i], e.versions[i+1:]...)
				if len(e.versions) == 0 {
					delete(r.schemas, name)
				}
				return nil
			}
		}
	}
	return fmt.Errorf("%w: schema %s version %s", ErrNotFound, name, ver)
}

// Export returns version ver ("": the latest) of the schema name as JSON
// in format to: JSON Schema draft 4 or 2020-12 of the envelope (an OpenAPI
// schema's other components become definitions, or $defs), or OpenAPI 3.0
// with the envelope as components/schemas/AWSEvent, carrying the schema's
// source and detail-type as x-amazon-events-source and
// x-amazon-events-detail-type (JSON Schema definitions become components).
// EventBridge's ExportSchema is the draft 4 case.
func (r *Registry) Export(name, ver string, to Format) ([]byte, error) {
	v, err := r.find(name, ver)
	if err != nil {
		return nil, err
	}
	out, err := v.doc.export(name, v.info.Source, v.info.DetailType, to)
	if err != nil {
		return nil, err
	}
	return json.MarshalIndent(out, "", "  ")
}

// LoadDir loads every *.json file of the directory dir, as [Registry.LoadFS]
// does.
func (r *Registry) LoadDir(dir string) ([]SchemaVersion, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("schema: load %w", err)
	}
	return r.LoadFS(os.DirFS(dir))
}

// LoadFS puts ([Registry.Put]) every *.json file at the top of fsys, in
// name order, as the schema named after the file without ".json"
// ("aws.s3@ObjectCreated.json" is aws.s3@ObjectCreated), its format
// detected. It stops at the first file that fails, with an error naming
// it, and returns the versions put so far.
func (r *Registry) LoadFS(fsys fs.FS) ([]SchemaVersion, error) {
	files, err := fs.Glob(fsys, "*.json")
	if err != nil {
		return nil, err
	}
	var out []SchemaVersion
	for _, file := range files {
		content, err := fs.ReadFile(fsys, file)
		if err != nil {
			return out, err
		}
		v, err := r.Put(strings.TrimSuffix(path.Base(file), ".json"), "", content)
		if err != nil {
			return out, fmt.Errorf("schema: load %s: %w", file, err)
		}
		out = append(out, v)
	}
	return out, nil
}
