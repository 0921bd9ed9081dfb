package render

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Causes a render can fail with; branch on them with errors.Is.
var (
	// ErrInvalidOptions means the Options themselves are wrong (e.g. Root is relative).
	ErrInvalidOptions = errors.New("invalid render options")
	// ErrOutsideRoot means a path, entry or symlink leads outside the artifact root.
	ErrOutsideRoot = errors.New("path leads outside the artifact root")
	// ErrRemote means a kustomization names a remote base or URL.
	ErrRemote = errors.New("remote bases and URLs are not allowed")
	// ErrHelm means a kustomization uses helmCharts or helmGlobals.
	ErrHelm = errors.New("helm charts are not rendered")
	// ErrPlugin means a generator, transformer or validator is an exec or
	// container function, or any plugin other than kustomize's builtins.
	ErrPlugin = errors.New("only builtin kustomize plugins are allowed")
	// ErrTooLarge means a file, or the artifact as a whole, exceeds its size limit.
	ErrTooLarge = errors.New("size limit exceeded")
	// ErrNotFound means a file or directory that is referenced does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInvalidYAML means a file does not parse, or is not a Kubernetes object.
	ErrInvalidYAML = errors.New("invalid YAML")
	// ErrInvalidKustomization means a kustomization is malformed.
	ErrInvalidKustomization = errors.New("invalid kustomization")
	// ErrUndefinedVariable means a ${VAR} has no value and no default.
	ErrUndefinedVariable = errors.New("undefined variable")
	// ErrInvalidSubstitution means a ${...} expression is malformed, or
	// substitution produced an invalid object.
	ErrInvalidSubstitution = errors.New("invalid substitution")
	// ErrDuplicate means two objects share group, kind, namespace and name.
	ErrDuplicate = errors.New("duplicate object")
	// ErrKustomize means kustomize itself failed; the message is kustomize's,
	// with paths made relative to the artifact root and secrets masked.
	ErrKustomize = errors.New("kustomize build failed")
)

// UndefinedVariableError is a ${NAME} without a value or a default. It
// wraps ErrUndefinedVariable; errors.As gives the variable's name.
type UndefinedVariableError struct {
	// Name of the variable.
	Name string
	// Field is where it appears, as the message names it.
	Field string
}

// Error implements error; it names the variable and never a value.
func (e *UndefinedVariableError) Error() string {
	return fmt.Sprintf("%v: variable %s in %s has no value: add %s to the Stack's postBuild.substitute, or give it a default: ${%s:=default}",
		ErrUndefinedVariable, e.Name, e.Field, e.Name, e.Name)
}

// Unwrap returns ErrUndefinedVariable.
func (e *UndefinedVariableError) Unwrap() error { return ErrUndefinedVariable }

// Error is a failed render. It says where: the file (relative to the
// artifact root) and line when known, and the object when known. Its message
// never holds a secret value or a substituted value.
type Error struct {
	// Path is the file or directory, relative to the artifact root.
	Path string
	// Line is the 1-based line in Path, or 0 when unknown.
	Line int
	// Object is "Kind namespace/name" when the failure concerns one object.
	Object string
	// Err is the cause; it wraps one of the Err... sentinels.
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	var parts []string
	if loc := e.location(); loc != "" {
		parts = append(parts, loc)
	}
	if e.Object != "" {
		parts = append(parts, e.Object)
	}
	if e.Err != nil {
		parts = append(parts, e.Err.Error())
	}
	return "render " + strings.Join(parts, ": ")
}

func (e *Error) location() string {
	if e.Path == "" || e.Line <= 0 {
		return e.Path
	}
	return e.Path + ":" + strconv.Itoa(e.Line)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// linePattern finds the line number in YAML parser messages ("yaml: line 3: ...").
var linePattern = regexp.MustCompile(`\bline (\d+)\b`)

// parserProblem matches the problems go-yaml's parser (not its scanner)
// reports. For those, go-yaml prints a 0-based line, one less than the
// line an editor shows (https://github.com/go-yaml/yaml/issues/205).
var parserProblem = regexp.MustCompile(`did not find expected (<stream-start>|<document start>|node content|'-' indicator|key|',' or '[\]}]')`)

// lineOf returns the 1-based line a YAML parser message points at, or 0.
func lineOf(msg string) int {
	m := linePattern.FindStringSubmatch(msg)
	if m == nil {
		return 0
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		return 0
	}
	if parserProblem.MatchString(msg) {
		n++
	}
	return n
}
