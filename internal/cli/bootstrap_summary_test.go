package cli

import (
	"bytes"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flotilla-io/flotilla/internal/apply"
	"github.com/flotilla-io/flotilla/internal/bootstrap"
)

// bootstrapChanges is a ChangeSet of two unchanged objects and one created.
func bootstrapChanges() apply.ChangeSet {
	var cs apply.ChangeSet
	cs.Add(apply.ObjMetadata{Kind: "Namespace", Name: "flotilla-system"}, apply.Unchanged, "")
	cs.Add(apply.ObjMetadata{Kind: "Secret", Namespace: "flotilla-system", Name: "fleet-git"}, apply.Unchanged, "")
	cs.Add(apply.ObjMetadata{Kind: "Stack", Namespace: "flotilla-system", Name: "cluster"}, apply.Created, "")
	return cs
}

func TestBootstrapSummary(t *testing.T) {
	const commit = "1a2b3c4d5e6f708192a3b4c5d6e7f80912a3b4c5"
	cases := []struct {
		name string
		res  bootstrap.Result
		want string
	}{
		{"a first bootstrap over ssh, waited for", bootstrap.Result{Changes: bootstrapChanges(), Committed: true, Commit: commit,
			Revision: "main@sha1:" + commit, HostKeyFingerprint: "SHA256:abcdef"},
			"ssh host key trusted on first use: SHA256:abcdef\n" +
				"committed clusters/prod to main and pushed (1a2b3c4d5e6f)\n" +
				"✔ 1 objects changed, 2 unchanged\n" +
				"✔ Stack flotilla-system/cluster is Ready at main@sha1:" + commit + "\n"},
		{"a second run commits nothing and does not wait", bootstrap.Result{Changes: bootstrapChanges(), Commit: commit},
			"clusters/prod already exists on main: no commit\n" +
				"✔ 1 objects changed, 2 unchanged\n"},
		{"nothing applied", bootstrap.Result{Commit: "abc"},
			"clusters/prod already exists on main: no commit\n" +
				"✔ 0 objects changed, 0 unchanged\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := &BootstrapOptions{Bootstrap: bootstrap.DefaultOptions()}
			o.Bootstrap.Path = "clusters/prod"
			var out bytes.Buffer
			o.printSummary(streams(&out), tc.res)
			if diff := cmp.Diff(tc.want, out.String()); diff != "" {
				t.Errorf("summary (-want +got):\n%s", diff)
			}
		})
	}
}

func TestShortCommit(t *testing.T) {
	cases := map[string]string{
		"1a2b3c4d5e6f708192a3b4c5d6e7f80912a3b4c5": "1a2b3c4d5e6f",
		"1a2b3c4d5e6f":  "1a2b3c4d5e6f",
		"1a2b3c4d5e6f7": "1a2b3c4d5e6f",
		"abc":           "abc",
		"":              "",
	}
	checkMapping(t, "short", short, cases)
}

func TestBootstrapReadsTheKeyFiles(t *testing.T) {
	dir := t.TempDir()
	key, hosts := filepath.Join(dir, "id_ed25519"), filepath.Join(dir, "known_hosts")
	writeFiles(t, dir, map[string]string{"id_ed25519": "PRIVATE KEY", "known_hosts": "git.example.com ssh-ed25519 AAAA"})
	o := &BootstrapOptions{PrivateKeyFile: key, KnownHostsFile: hosts}
	if err := o.readFiles(); err != nil {
		t.Fatal(err)
	}
	if string(o.Bootstrap.PrivateKey) != "PRIVATE KEY" || string(o.Bootstrap.KnownHosts) != "git.example.com ssh-ed25519 AAAA" {
		t.Errorf("read %q and %q", o.Bootstrap.PrivateKey, o.Bootstrap.KnownHosts)
	}
	none := &BootstrapOptions{}
	if err := none.readFiles(); err != nil || none.Bootstrap.PrivateKey != nil || none.Bootstrap.KnownHosts != nil {
		t.Errorf("without files: %v, key %q, hosts %q", err, none.Bootstrap.PrivateKey, none.Bootstrap.KnownHosts)
	}
}

func TestBootstrapNamesTheFlagOfAMissingFile(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	cases := []struct {
		o    BootstrapOptions
		flag string
	}{
		{BootstrapOptions{PrivateKeyFile: missing}, "--private-key-file: "},
		{BootstrapOptions{KnownHostsFile: missing}, "--known-hosts-file: "},
	}
	for _, tc := range cases {
		err := tc.o.readFiles()
		if err == nil || !strings.HasPrefix(err.Error(), tc.flag) || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("readFiles = %v, want a not-exist error starting with %q", err, tc.flag)
		}
	}
}
