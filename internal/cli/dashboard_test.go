package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// twoContexts is a kubeconfig with contexts prod and staging; nothing
// listens on their servers.
const twoContexts = `apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster: {server: "https://127.0.0.1:1"}
- name: staging
  cluster: {server: "https://127.0.0.1:2"}
users:
- name: me
  user: {token: not-a-real-token}
contexts:
- name: prod
  context: {cluster: prod, user: me}
- name: staging
  context: {cluster: staging, user: me}
current-context: prod
`

func writeKubeconfig(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDashboardOptionsValidation(t *testing.T) {
	kubeconfig := writeKubeconfig(t, twoContexts)
	empty := writeKubeconfig(t, "apiVersion: v1\nkind: Config\n")
	for _, tc := range []struct {
		name    string
		opts    DashboardOptions
		want    []string // cluster names
		wantErr string
	}{
		{name: "every context by default", opts: DashboardOptions{Kubeconfig: kubeconfig, Address: DefaultDashboardAddress}, want: []string{"prod", "staging"}},
		{name: "the contexts named, in order", opts: DashboardOptions{Kubeconfig: kubeconfig, Contexts: "staging, prod,staging", Address: DefaultDashboardAddress}, want: []string{"staging", "prod"}},
		{name: "an unknown context", opts: DashboardOptions{Kubeconfig: kubeconfig, Contexts: "nope", Address: DefaultDashboardAddress}, wantErr: "context nope"},
		{name: "a kubeconfig without contexts", opts: DashboardOptions{Kubeconfig: empty, Address: DefaultDashboardAddress}, wantErr: "no contexts"},
		{name: "an address without a port", opts: DashboardOptions{Kubeconfig: kubeconfig, Address: "localhost"}, wantErr: "--address"},
		{name: "a repo that is not a directory", opts: DashboardOptions{Kubeconfig: kubeconfig, Address: DefaultDashboardAddress, Repo: filepath.Join(t.TempDir(), "nope")}, wantErr: "--repo"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.opts.serverOptions()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, c := range got.Clusters {
				names = append(names, c.Name)
				if c.Config == nil || c.Config.Host == "" {
					t.Errorf("cluster %s has no config", c.Name)
				}
			}
			if strings.Join(names, ",") != strings.Join(tc.want, ",") {
				t.Errorf("clusters = %v, want %v", names, tc.want)
			}
		})
	}
}

func TestDashboardPrintsItsURLAndStopsWithTheContext(t *testing.T) {
	var out bytes.Buffer
	o := &DashboardOptions{Kubeconfig: writeKubeconfig(t, twoContexts), Address: "127.0.0.1:0"}
	ctx, cancel := context.WithCancel(context.Background())
	o.started = func(string) { cancel() }
	if err := o.Run(ctx, Streams{Out: &out, ErrOut: &out}); err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^Dashboard: http://127\.0\.0\.1:[0-9]+/ \(2 clusters; Ctrl-C stops it\)\n$`)
	if !re.MatchString(out.String()) {
		t.Errorf("output = %q, want it to match %s", out.String(), re)
	}
}

func TestDashboardCommandRefusesArguments(t *testing.T) {
	cmd := NewRootCommand(Streams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}})
	cmd.SetArgs([]string{"dashboard", "extra"})
	if err := cmd.Execute(); err == nil {
		t.Error("dashboard accepted an argument")
	}
}
