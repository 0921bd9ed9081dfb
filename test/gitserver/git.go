package gitserver

import (
	"testing"

	"github.com/flotilla-io/flotilla/internal/gitserve"
)

// runGit runs git in dir with an isolated environment and returns its
// trimmed stdout. On failure the error includes stdout and stderr.
func runGit(dir, home string, extraEnv []string, args ...string) (string, error) {
	return gitserve.Git(dir, home, extraEnv, args...)
}

// mustGit is runGit that fails the test on error.
func mustGit(t testing.TB, dir, home string, args ...string) string {
	t.Helper()
	out, err := runGit(dir, home, nil, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// must fails the test on err.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
