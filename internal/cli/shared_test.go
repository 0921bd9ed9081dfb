package cli

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flotilla-io/flotilla/internal/apply"
	"github.com/flotilla-io/flotilla/internal/redact"
)

func TestPrintChanges(t *testing.T) {
	var cs apply.ChangeSet
	cs.Add(apply.ObjMetadata{Kind: "Namespace", Name: "flotilla-system"}, apply.Unchanged, "")
	cs.Add(apply.ObjMetadata{Group: "apps", Kind: "Deployment", Namespace: "flotilla-system", Name: "flotilla-agent"}, apply.Configured, "")
	cs.Add(apply.ObjMetadata{Kind: "ServiceAccount", Namespace: "flotilla-system", Name: "flotilla-agent"}, apply.Created, "")
	cs.Add(apply.ObjMetadata{Kind: "Secret", Namespace: "flotilla-system", Name: "old"}, apply.Deleted, "")
	var out bytes.Buffer
	printChanges(&out, cs)
	want := "Namespace/flotilla-system unchanged\n" +
		"Deployment/flotilla-system/flotilla-agent configured\n" +
		"ServiceAccount/flotilla-system/flotilla-agent created\n" +
		"Secret/flotilla-system/old deleted\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("printChanges, outside a terminal: no colour (-want +got):\n%s", diff)
	}
	out.Reset()
	printChanges(&out, apply.ChangeSet{})
	if out.Len() != 0 {
		t.Errorf("no change printed %q", out.String())
	}
}

func TestExitCodeError(t *testing.T) {
	cause := errors.New("2 objects differ")
	cases := []struct {
		name string
		err  *ExitCodeError
		want string
	}{
		{"the message of its cause", &ExitCodeError{Code: 1, Err: cause}, "2 objects differ"},
		{"the bare code without one", &ExitCodeError{Code: 2}, "exit code 2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err.Error() != tc.want {
				t.Errorf("Error() = %q, want %q", tc.err.Error(), tc.want)
			}
			if got := errors.Unwrap(tc.err); got != tc.err.Err {
				t.Errorf("Unwrap = %v, want %v", got, tc.err.Err)
			}
		})
	}
	code, printed := ExitCode(fmt.Errorf("plan: %w", &ExitCodeError{Code: 2, Err: cause}))
	if code != 2 || !printed {
		t.Errorf("ExitCode(wrapped) = %d, %t; want 2, true", code, printed)
	}
}

func TestCheckOutputNamesTheAllowedFormats(t *testing.T) {
	cases := []struct {
		allowed []string
		want    string
	}{
		{[]string{OutputJSON}, `unknown output format "xml": use json`},
		{[]string{OutputJSON, OutputYAML}, `unknown output format "xml": use json or yaml`},
		{[]string{"text", "markdown", OutputJSON, OutputYAML}, `unknown output format "xml": use text, markdown, json or yaml`},
	}
	for _, tc := range cases {
		if err := checkOutput("xml", tc.allowed...); errString(err) != tc.want {
			t.Errorf("checkOutput(xml, %q) = %v, want %q", tc.allowed, err, tc.want)
		}
	}
	if err := checkOutput("JSON", OutputJSON); err == nil {
		t.Error("checkOutput is case-sensitive as kubectl is: JSON was accepted")
	}
}

func TestPrintDataOfAStructure(t *testing.T) {
	v := []GetEntry{{Kind: "Stack", Namespace: "ns", Name: "apps", Ready: "True"}}
	var j, y bytes.Buffer
	if err := printData(&j, OutputJSON, v); err != nil {
		t.Fatal(err)
	}
	if err := printData(&y, OutputYAML, v); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(j.String(), "[\n  {\n") || !strings.HasSuffix(j.String(), "]\n") {
		t.Errorf("JSON is not indented by two spaces with a final newline:\n%s", j.String())
	}
	if !strings.HasPrefix(y.String(), "- ") || !strings.Contains(y.String(), "\n  name: apps\n") {
		t.Errorf("YAML is not a list of the entries:\n%s", y.String())
	}
	if err := printData(&j, OutputJSON, func() {}); err == nil {
		t.Error("printData of a value JSON cannot hold succeeded")
	}
}

func TestReadyCellColours(t *testing.T) {
	on := palette{on: true}
	cases := []struct {
		status string
		p      palette
		want   string
	}{
		{"True", on, "\x1b[32mTrue\x1b[0m"},
		{"False", on, "\x1b[31mFalse\x1b[0m"},
		{"Unknown", on, "\x1b[33mUnknown\x1b[0m"},
		{"", on, "\x1b[33m<none>\x1b[0m"},
		{"Weird\tstatus", on, "\x1b[33mWeird?status\x1b[0m"},
		{"True", palette{}, "True"},
		{"", palette{}, "<none>"},
	}
	for _, tc := range cases {
		if got := readyCell(tc.p, tc.status); got != tc.want {
			t.Errorf("readyCell(on %t, %q) = %q, want %q", tc.p.on, tc.status, got, tc.want)
		}
	}
	if got := on.Dim("x"); got != "\x1b[2mx\x1b[0m" {
		t.Errorf("Dim = %q", got)
	}
}

// TestTableKeepsColumnsAlignedAndSeparated: columns are separated by three
// spaces at least, as kubectl's, whatever the width of a cell.
func TestTableKeepsColumnsAlignedAndSeparated(t *testing.T) {
	var out bytes.Buffer
	tw := newTable(&out)
	fmt.Fprintln(tw, "NAME\tREADY\tAGE")
	fmt.Fprintln(tw, "a-rather-long-name\tTrue\t5s")
	fmt.Fprintln(tw, "x\tFalse\t3d")
	if err := tw.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "NAME                 READY   AGE\n" +
		"a-rather-long-name   True    5s\n" +
		"x                    False   3d\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
}

// manifest is an unstructured object of the given kind holding value in
// several places: a field, a list and a nested map.
func manifest(kind, value string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": kind,
		"metadata": map[string]any{"name": "x", "namespace": "ns", "annotations": map[string]any{"note": "token " + value}},
		"data":     map[string]any{"url": "https://user:" + value + "@git.example.com", "replicas": int64(3), "on": true},
		"spec":     map[string]any{"args": []any{"--token=" + value, int64(1), map[string]any{"env": value}}},
	}}
}

const plantedValue = "planted-value-from-a-secret"

func TestRedactStrings(t *testing.T) {
	red := redact.New(plantedValue)
	in := manifest("ConfigMap", plantedValue)
	before := in.DeepCopy()
	got := redactStrings(in, red)
	want := manifest("ConfigMap", redact.Mask)
	if diff := cmp.Diff(want.Object, got.Object); diff != "" {
		t.Errorf("redactStrings (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before.Object, in.Object); diff != "" {
		t.Errorf("redactStrings changed its input (-before +after):\n%s", diff)
	}
}

func TestRedactStringsWithoutARedactor(t *testing.T) {
	in := manifest("ConfigMap", plantedValue)
	if got := redactStrings(in, nil); got != in {
		t.Error("without a redactor the object is not returned as it is")
	}
	if got := redactStrings(nil, redact.New(plantedValue)); got != nil {
		t.Errorf("redactStrings(nil) = %v", got)
	}
}

// TestMaskObject: a Secret's values are masked whatever they are, other
// objects only where they hold a value the redactor knows, and a URL's
// credentials written in Git in clear are shown as written.
func TestMaskObject(t *testing.T) {
	secret := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata":   map[string]any{"name": "credentials", "namespace": "ns"},
		"data":       map[string]any{"password": "c2VjcmV0"},
		"stringData": map[string]any{"api-key": "in-clear-in-git"},
	}}
	masked := maskObject(secret, nil)
	wantData := map[string]any{"password": redact.SecretValueMask, "api-key": redact.SecretValueMask}
	if diff := cmp.Diff(wantData, masked.Object["data"]); diff != "" {
		t.Errorf("Secret data (-want +got):\n%s", diff)
	}
	if _, ok := masked.Object["stringData"]; ok {
		t.Error("stringData is still there")
	}
	cm := manifest("ConfigMap", "written-in-git")
	if got := maskObject(cm, redact.New(plantedValue)); !cmp.Equal(got.Object, cm.Object) {
		t.Errorf("a ConfigMap without a known value changed:\n%v", got.Object)
	}
	if got := maskObject(manifest("ConfigMap", plantedValue), redact.New(plantedValue)); !cmp.Equal(got.Object, manifest("ConfigMap", redact.Mask).Object) {
		t.Errorf("a substituted value is not masked:\n%v", got.Object)
	}
}

// checkMapping checks that f maps each key of cases to its value; name is
// f's name for the messages.
func checkMapping(t *testing.T, name string, f func(string) string, cases map[string]string) {
	t.Helper()
	for in, want := range cases {
		if got := f(in); got != want {
			t.Errorf("%s(%q) = %q, want %q", name, in, got, want)
		}
	}
}
