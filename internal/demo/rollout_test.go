package demo

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rolloutFleet is a fleet with the example repository served by a real Git
// server and no clusters: rollOut's Git half, which the tests run.
func rolloutFleet(t *testing.T) (*fleet, *bytes.Buffer) {
	t.Helper()
	ctx := context.Background()
	r, err := newFleetRepo(ctx, t.TempDir(), "127.0.0.1", func(string) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.close() })
	var out bytes.Buffer
	return &fleet{o: Options{Out: &out, Report: &recordingReporter{}}.withDefaults(), repo: r}, &out
}

// servedFile is file at the served main.
func servedFile(t *testing.T, r *fleetRepo, file string) string {
	t.Helper()
	s, err := r.git(context.Background(), r.bare(), "show", "main:"+file)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRollOutPushesTheGreeting(t *testing.T) {
	f, out := rolloutFleet(t)
	ctx := context.Background()
	before, err := f.repo.head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.rollOut(ctx); err != nil {
		t.Fatal(err)
	}
	after, err := f.repo.head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after == before {
		t.Fatal("rollOut pushed no commit")
	}
	msg, err := f.repo.git(ctx, f.repo.bare(), "log", "-1", "--format=%s", "main")
	if err != nil || msg != commitMessage {
		t.Errorf("the pushed commit's message = %q, %v; want %q", msg, err, commitMessage)
	}
	if got := servedFile(t, f.repo, commitFile); !strings.Contains(got, strings.TrimSpace(commitNew)) {
		t.Errorf("served %s lacks the greeting:\n%s", commitFile, got)
	}
	if !strings.Contains(out.String(), short(after)) || !strings.Contains(out.String(), "GREETING: hello from ${CLUSTER_NAME}") {
		t.Errorf("narration %q: want the commit %s and the line it adds", out.String(), short(after))
	}
}

// Running the roll-out again, after a full or a partial run, leaves one
// greeting in the served file instead of a duplicate key that breaks the
// render.
func TestRollOutIsIdempotent(t *testing.T) {
	for _, tc := range []struct {
		name  string
		first func(*fleet) error
	}{
		{"after a full run", func(f *fleet) error { return f.rollOut(context.Background()) }},
		{"after the edit, before the commit", func(f *fleet) error { return f.repo.edit(commitFile, commitOld, commitNew) }},
		{"after the commit, before the push", func(f *fleet) error {
			if err := f.repo.edit(commitFile, commitOld, commitNew); err != nil {
				return err
			}
			_, err := f.repo.git(context.Background(), f.repo.work, "commit", "-q", "-am", commitMessage)
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, _ := rolloutFleet(t)
			if err := tc.first(f); err != nil {
				t.Fatal(err)
			}
			if err := f.rollOut(context.Background()); err != nil {
				t.Fatalf("rollOut again: %v", err)
			}
			served := servedFile(t, f.repo, commitFile)
			if n := strings.Count(served, "GREETING:"); n != 1 {
				t.Errorf("served %s has %d greetings, want 1:\n%s", commitFile, n, served)
			}
			b, err := os.ReadFile(filepath.Join(f.repo.work, filepath.FromSlash(commitFile)))
			if err != nil {
				t.Fatal(err)
			}
			if strings.TrimSpace(string(b)) != served {
				t.Errorf("the work tree and the served main differ:\n%s\n---\n%s", b, served)
			}
		})
	}
}

func TestEdit(t *testing.T) {
	for _, tc := range []struct {
		name, content, want, err string
	}{
		{name: "replaces the first match", content: "a: 1\nLEVEL\nLEVEL\n", want: "a: 1\nLEVEL+\nLEVEL\n"},
		{name: "already edited", content: "LEVEL+\n", want: "LEVEL+\n"},
		{name: "old missing", content: "other\n", want: "other\n", err: `f.yaml does not contain "LEVEL"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &fleetRepo{work: t.TempDir()}
			p := filepath.Join(r.work, "f.yaml")
			if err := os.WriteFile(p, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			err := r.edit("f.yaml", "LEVEL", "LEVEL+")
			if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("edit = %v, want error %q", err, tc.err)
			}
			if b, _ := os.ReadFile(p); string(b) != tc.want {
				t.Errorf("file %q, want %q", b, tc.want)
			}
		})
	}
	r := &fleetRepo{work: t.TempDir()}
	if err := r.edit("missing.yaml", "a", "b"); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("edit of a missing file = %v, want an error naming it", err)
	}
}
