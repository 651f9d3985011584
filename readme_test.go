package eda

// TestREADMECompiles builds every ```go block of README.md, so that the
// README cannot teach code that does not compile.
//
// The blocks are written into a temporary module that requires this one
// through a replace directive, and built with one `go build ./...`. Each
// block is one of:
//
//   - a complete file: its first line starts with "package"; it is built
//     on its own, as one package;
//   - a fragment of declarations only (types, funcs, vars, consts): it is
//     placed at the top level of package main;
//   - a fragment of statements (local type declarations included), which
//     is what README blocks usually are: it is placed in the body of a
//     function of package main;
//   - skipped: its first line is "// README: skip" (for text that is Go
//     only in spirit; no block of the README uses it today).
//
// A fragment's imports are added for it: every pkg.Name it uses whose pkg
// is in readmeImports. Names that a fragment uses without declaring them —
// the things the README's prose says exist, such as a *eda.Bus called bus —
// are declared, with their types, in readmeGivens; a fragment may declare
// them again with :=, which shadows the given. Compiler errors point at
// README.md's own lines (through //line directives).
//
// The test takes a few seconds (it builds a module) and is skipped under
// -short.

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readmeImports are the packages a fragment may use, by the name it uses.
var readmeImports = map[string]string{
	"context": "context",
	"errors":  "errors",
	"fmt":     "fmt",
	"http":    "net/http",
	"json":    "encoding/json",
	"log":     "log",
	"os":      "os",
	"slog":    "log/slog",
	"strings": "strings",
	"time":    "time",
	"eda":     "github.com/edakit/eda",
}

// readmeGivens declares what README fragments use without declaring it.
const readmeGivens = `package main

import (
	"context"

	"github.com/edakit/eda"
)

// What the README's fragments take as given.
var (
	ctx      = context.Background()
	bus      *eda.Bus
	err      error
	event    []byte      // an event's JSON
	payments interface { // a payment service
		Charge(ctx context.Context, idempotencyKey string, amount float64) error
	}
)

// saveOrder stands for the application's storage.
func saveOrder(ctx context.Context, order any) error { return nil }

func main() {}
`

// readmeBlock is a fenced code block of README.md.
type readmeBlock struct {
	lang string
	line int // README line of the block's first line of code
	code string
}

// readmeBlocks returns the fenced code blocks of a Markdown text. A fence
// is a line starting with three or more backticks; it closes at a line of
// at least as many backticks.
func readmeBlocks(md string) []readmeBlock {
	var blocks []readmeBlock
	var cur *readmeBlock
	var fence string
	var code strings.Builder
	for i, line := range strings.Split(md, "\n") {
		trimmed := strings.TrimSpace(line)
		if cur == nil {
			if strings.HasPrefix(trimmed, "```") {
				n := len(trimmed) - len(strings.TrimLeft(trimmed, "`"))
				fence = trimmed[:n]
				info := strings.TrimSpace(trimmed[n:])
				if strings.Contains(info, "`") {
					continue // an inline code span, not a fence
				}
				cur = &readmeBlock{lang: strings.Fields(info + " ")[0], line: i + 2}
				code.Reset()
			}
			continue
		}
		if strings.HasPrefix(trimmed, fence) && strings.Trim(trimmed, "`") == "" {
			cur.code = code.String()
			blocks = append(blocks, *cur)
			cur = nil
			continue
		}
		code.WriteString(line)
		code.WriteByte('\n')
	}
	return blocks
}

// readmeSource returns the Go file for block number n, and the directory
// (relative to the module root) it belongs in; "" means skip it.
func readmeSource(n int, b readmeBlock) (dir, src string, err error) {
	first, _, _ := strings.Cut(strings.TrimSpace(b.code), "\n")
	lineDirective := fmt.Sprintf("//line README.md:%d\n", b.line)
	switch {
	case strings.TrimSpace(first) == "// README: skip":
		return "", "", nil
	case strings.HasPrefix(first, "package "):
		return fmt.Sprintf("file%02d", n), lineDirective + b.code, nil
	}
	fset := token.NewFileSet()
	// Declarations only? Then the block goes at the top level.
	asFile := "package main\n" + b.code
	if f, perr := parser.ParseFile(fset, "", asFile, parser.SkipObjectResolution); perr == nil {
		return ".", readmeFile(f, lineDirective+b.code), nil
	}
	asBody := "package main\nfunc _() {\n" + b.code + "}\n"
	f, perr := parser.ParseFile(fset, "", asBody, parser.SkipObjectResolution)
	if perr != nil {
		return "", "", fmt.Errorf("README.md:%d: a go block that is neither declarations nor statements: %v", b.line, perr)
	}
	body := fmt.Sprintf("func readmeBlock%02d() {\n%s%s}\n", n, lineDirective, b.code)
	return ".", readmeFile(f, body), nil
}

// readmeFile returns a file of package main holding code, with the imports
// that the parsed f (the same code) uses.
func readmeFile(f *ast.File, code string) string {
	used := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok && readmeImports[id.Name] != "" {
				used[readmeImports[id.Name]] = true
			}
		}
		return true
	})
	var sb strings.Builder
	sb.WriteString("package main\n\nimport (\n")
	for _, path := range slices.Sorted(maps.Keys(used)) {
		fmt.Fprintf(&sb, "\t%q\n", path)
	}
	sb.WriteString(")\n\n")
	sb.WriteString(code)
	return sb.String()
}

func TestREADMECompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module; skipped under -short")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	md, err := os.ReadFile("README.md")
	require.NoError(t, err)
	root, err := filepath.Abs(".")
	require.NoError(t, err)

	mod := t.TempDir()
	write := func(rel, content string) {
		t.Helper()
		path := filepath.Join(mod, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	}
	write("go.mod", fmt.Sprintf("module readmecheck\n\ngo 1.26\n\nrequire github.com/edakit/eda v0.0.0\n\nreplace github.com/edakit/eda => %q\n", root))
	sum, err := os.ReadFile("go.sum")
	require.NoError(t, err)
	write("go.sum", string(sum))
	write("givens.go", readmeGivens)

	built := 0
	for n, b := range readmeBlocks(string(md)) {
		if b.lang != "go" {
			continue
		}
		dir, src, err := readmeSource(n, b)
		require.NoError(t, err)
		if dir == "" {
			continue
		}
		write(filepath.Join(dir, fmt.Sprintf("block%02d.go", n)), src)
		built++
	}
	require.NotZero(t, built, "README.md has no go block")

	cmd := exec.Command(goTool, "build", "-o", os.DevNull, "./...")
	cmd.Dir = mod
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Run(), "README.md's go blocks do not compile:\n%s", out.String())
}

// TestREADMEBlocks checks the parsing of fences and the placing of blocks
// that TestREADMECompiles relies on.
func TestREADMEBlocks(t *testing.T) {
	md := "text\n```sh\ngo test ./...\n```\n\n```go\nx := 1\n_ = x\n```\n" +
		"a ```` ```mermaid ```` span\n````go\npackage main\n```\n````\n"
	blocks := readmeBlocks(md)
	require.Len(t, blocks, 3)
	assert.Equal(t, readmeBlock{lang: "sh", line: 3, code: "go test ./...\n"}, blocks[0])
	assert.Equal(t, readmeBlock{lang: "go", line: 7, code: "x := 1\n_ = x\n"}, blocks[1])
	assert.Equal(t, readmeBlock{lang: "go", line: 12, code: "package main\n```\n"}, blocks[2])

	for _, tc := range []struct {
		name, code, dir string
		contains        []string
	}{
		{"statements", "ctx := context.Background()\nfmt.Println(ctx)\n", ".",
			[]string{"\"context\"", "\"fmt\"", "func readmeBlock04() {\n//line README.md:9\nctx :="}},
		{"declarations", "type T struct{ At time.Time }\n", ".", []string{"\"time\"", "//line README.md:9\ntype T"}},
		{"file", "package main\n\nfunc main() {}\n", "file04", []string{"//line README.md:9\npackage main"}},
		{"skip", "// README: skip\nnot Go at all\n", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, src, err := readmeSource(4, readmeBlock{lang: "go", line: 9, code: tc.code})
			require.NoError(t, err)
			assert.Equal(t, tc.dir, dir)
			for _, c := range tc.contains {
				assert.Contains(t, src, c)
			}
		})
	}
	_, _, err := readmeSource(4, readmeBlock{lang: "go", line: 9, code: "func {\n"})
	assert.ErrorContains(t, err, "README.md:9")
}
