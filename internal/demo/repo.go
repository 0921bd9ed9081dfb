package demo

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/flotilla-io/flotilla/examples"
	"github.com/flotilla-io/flotilla/internal/gitserve"
)

// repoName is the fleet repository's name on the demo's Git server.
const repoName = "fleet"

// fleetRepo is the example fleet in a bare repository served over smart
// HTTP with basic authentication, and a work tree the demo commits from.
type fleetRepo struct {
	root, work, home string
	url              string
	username         string
	password         string
	srv              *gitserve.HTTPServer
}

// newFleetRepo creates the repository under dir from the embedded example
// fleet, lets customize change the work tree, commits it to main and
// serves it on a free port of host.
func newFleetRepo(ctx context.Context, dir, host string, customize func(work string) error) (*fleetRepo, error) {
	r := &fleetRepo{
		root: filepath.Join(dir, "git"), work: filepath.Join(dir, "work"), home: filepath.Join(dir, "git-home"),
		username: "fleet", password: randomPassword(),
	}
	for _, d := range []string{r.root, r.work, r.home} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	bare := r.bare()
	steps := [][]string{{"init", "-q", "--bare", "-b", "main", bare}, {"init", "-q", "-b", "main", r.work}}
	for _, args := range steps {
		if _, err := r.git(ctx, "", args...); err != nil {
			return nil, err
		}
	}
	if err := copyFleet(r.work); err != nil {
		return nil, err
	}
	if err := customize(r.work); err != nil {
		return nil, err
	}
	if _, err := r.git(ctx, r.work, "remote", "add", "origin", bare); err != nil {
		return nil, err
	}
	if _, err := r.commitAndPush(ctx, "The example fleet: three clusters"); err != nil {
		return nil, err
	}
	return r, r.serve(host)
}

// randomPassword is the demo Git server's password: credentials in the
// demo are as real as anywhere else.
func randomPassword() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// copyFleet writes the embedded examples/fleet into dir.
func copyFleet(dir string) error {
	return fs.WalkDir(examples.Fleet, "fleet", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := examples.Fleet.ReadFile(p)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(p, "fleet/")))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
}

// serve starts the smart HTTP server on a free port of host.
func (r *fleetRepo) serve(host string) error {
	srv, err := gitserve.StartHTTP(&gitserve.Root{Dir: r.root}, gitserve.WithHost(host), gitserve.WithBasicAuth(r.username, r.password))
	if err != nil {
		return fmt.Errorf("starting the Git server: %w", err)
	}
	r.srv, r.url = srv, srv.RepoURL(repoName)
	return nil
}

// close stops the Git server.
func (r *fleetRepo) close() error {
	if r.srv != nil {
		r.srv.Close()
	}
	return nil
}

// edit rewrites one file of the work tree, relative to the repository root,
// replacing old with new; it fails when old is not there. A file that holds
// new already is left as it is, so a step run again edits once.
func (r *fleetRepo) edit(file, old, new string) error {
	p := filepath.Join(r.work, filepath.FromSlash(file))
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if bytes.Contains(b, []byte(new)) {
		return nil
	}
	if !bytes.Contains(b, []byte(old)) {
		return fmt.Errorf("%s does not contain %q", file, old)
	}
	return os.WriteFile(p, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644)
}

// commitAndPush commits every change of the work tree and pushes main;
// it returns the commit's full SHA. With nothing to commit (a step run
// again) it pushes what main holds.
func (r *fleetRepo) commitAndPush(ctx context.Context, message string) (string, error) {
	if _, err := r.git(ctx, r.work, "add", "-A"); err != nil {
		return "", err
	}
	changes, err := r.git(ctx, r.work, "status", "--porcelain")
	if err != nil {
		return "", err
	}
	if changes != "" {
		if _, err := r.git(ctx, r.work, "commit", "-q", "-m", message); err != nil {
			return "", err
		}
	}
	if _, err := r.git(ctx, r.work, "push", "-q", "origin", "main"); err != nil {
		return "", err
	}
	return r.git(ctx, r.work, "rev-parse", "HEAD")
}

// bare is the path of the served bare repository.
func (r *fleetRepo) bare() string { return filepath.Join(r.root, repoName+".git") }

// head returns the served repository's main.
func (r *fleetRepo) head(ctx context.Context) (string, error) {
	return r.git(ctx, r.bare(), "rev-parse", "main")
}

// pull makes the work tree the served main, after another writer (an
// ImageUpdate) pushed to it.
func (r *fleetRepo) pull(ctx context.Context) error {
	_, err := r.git(ctx, r.work, "pull", "-q", "--ff-only", "origin", "main")
	return err
}

// git runs the git CLI in dir, isolated from the user's configuration.
func (r *fleetRepo) git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"HOME="+r.home, "XDG_CONFIG_HOME="+r.home, "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=Flotilla demo", "GIT_AUTHOR_EMAIL=demo@flotilla.invalid",
		"GIT_COMMITTER_NAME=Flotilla demo", "GIT_COMMITTER_EMAIL=demo@flotilla.invalid")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}
