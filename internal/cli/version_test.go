package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/flotilla-io/flotilla/internal/version"
)

func run(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := NewRootCommand(Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), errOut.String(), err
}

func TestVersionFormats(t *testing.T) {
	want := version.Get()
	cases := []struct {
		name  string
		args  []string
		check func(t *testing.T, out string)
	}{
		{"plain", []string{"version"}, func(t *testing.T, out string) {
			if !strings.HasPrefix(out, "flotilla "+want.Version+" (") {
				t.Errorf("output = %q", out)
			}
		}},
		{"json", []string{"version", "-o", "json"}, func(t *testing.T, out string) {
			var got version.Info
			if err := json.Unmarshal([]byte(out), &got); err != nil || got != want {
				t.Errorf("json = %q (%v), want %+v", out, err, want)
			}
		}},
		{"yaml", []string{"version", "-o", "yaml"}, func(t *testing.T, out string) {
			var got version.Info
			if err := yaml.Unmarshal([]byte(out), &got); err != nil || got != want {
				t.Errorf("yaml = %q (%v), want %+v", out, err, want)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := run(t, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, out)
		})
	}
}

func TestVersionUnknownFormat(t *testing.T) {
	_, _, err := run(t, "version", "-o", "xml")
	if err == nil || !strings.Contains(err.Error(), `unknown output format "xml"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestAgentRefusesBadFlags(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"zero concurrency", []string{"agent", "--concurrency", "0"}, "--concurrency must be at least 1"},
		{"unknown log level", []string{"agent", "--log-level", "loud"}, `--log-level "loud"`},
		{"unknown log format", []string{"agent", "--log-format", "xml"}, `--log-format "xml"`},
		{"missing kubeconfig file", []string{"agent", "--kubeconfig", "/nonexistent/kubeconfig", "--data-dir", "/tmp/x"}, "loading kubeconfig /nonexistent/kubeconfig"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := run(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
