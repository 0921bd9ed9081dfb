package git_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/internal/source/git"
	"github.com/flotilla-io/flotilla/test/gitserver"
)

// TestFetchOverTheSizeCapFails pushes a commit whose pack is larger than
// the fetch's cap: the fetch fails with ErrTooLarge naming the cap, well
// before its deadline, over HTTP, SSH and file://; the cache keeps the
// last good commit, and a fetch with a larger cap gets the new one.
func TestFetchOverTheSizeCapFails(t *testing.T) {
	const limit = 200_000
	f := newFixture(t)
	first := f.commit(t, "app.yaml", "v: 1\n")
	f.wd.Push(t, "main")
	srv := gitserver.NewHTTP(t, f.root)
	priv, pub := gitserver.NewClientKey(t)
	sshSrv := gitserver.NewSSH(t, f.root, pub)
	sshCreds := git.Credentials{Identity: priv, KnownHosts: sshSrv.KnownHosts()}

	cases := []struct {
		name  string
		url   string
		creds git.Credentials
	}{
		{"http", srv.RepoURL(f.name), git.Credentials{}},
		{"ssh", sshSrv.RepoURL(f.name), sshCreds},
		{"file", f.root.FileURL(f.name), git.Credentials{}},
	}
	cache := map[string]string{}
	for _, tc := range cases {
		cache[tc.name] = t.TempDir()
		if res := capped(t, tc.url, tc.creds, cache[tc.name], limit); res.err != nil || res.commit != first {
			t.Fatalf("%s: the first fetch, under the cap: %+v", tc.name, res)
		}
	}

	random := make([]byte, 3*limit/4*2) // incompressible: the pack is at least as large
	if _, err := rand.Read(random); err != nil {
		t.Fatal(err)
	}
	second := f.commit(t, "blob.txt", base64.StdEncoding.EncodeToString(random))
	f.wd.Push(t, "main")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := capped(t, tc.url, tc.creds, cache[tc.name], limit)
			if !errors.Is(res.err, git.ErrTooLarge) {
				t.Fatalf("fetch over the cap: err = %v, want ErrTooLarge", res.err)
			}
			if msg := res.err.Error(); !strings.Contains(msg, "more than 200000 bytes") || !strings.Contains(msg, "fetch branch main") {
				t.Errorf("the error %q should say what was fetched and the cap", msg)
			}
			if res.took > 20*time.Second {
				t.Errorf("the fetch ended at its deadline (%s), not at the cap", res.took)
			}
			if res := capped(t, tc.url, tc.creds, cache[tc.name], 0); res.err != nil || res.commit != second {
				t.Fatalf("fetch with the default cap after the refused one: %+v, want commit %s", res, second)
			}
		})
	}
}

type cappedResult struct {
	commit string
	err    error
	took   time.Duration
}

func capped(t *testing.T, url string, creds git.Credentials, cache string, limit int64) cappedResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	res, err := git.Fetch(ctx, git.FetchOptions{URL: url, Credentials: creds, CacheDir: cache, MaxSize: limit})
	out := cappedResult{err: err, took: time.Since(start)}
	if res != nil {
		out.commit = res.Commit.Hash.String()
	}
	return out
}
