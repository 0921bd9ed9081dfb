// Package gitserve runs real Git servers on this machine: a directory of
// bare repositories ([Root]), the smart HTTP(S) protocol through the real
// `git http-backend` run as a CGI program ([Handler], [StartHTTP]), SSH
// through the real `git upload-pack` / `git receive-pack` ([StartSSH]), and
// work trees that commit and push with the git CLI ([Workdir]). Every
// function returns its error, so the demo (which ships in the binary), the
// benchmarks and, through the thin testing.TB wrappers of test/gitserver,
// the integration tests share the same servers.
//
// It is not meant to face the internet: the servers listen on loopback (or
// an address of this machine given with [WithHost]) and git runs with
// GIT_CONFIG_NOSYSTEM=1 and a HOME of its own, so the user's Git
// configuration stays out.
package gitserve

import (
	"bytes"
	"crypto/subtle"
	"fmt"
	"io"
	"net/http"
	"net/http/cgi"
	"os/exec"
	"path/filepath"
	"strings"
)

// Options configure Handler.
type Options struct {
	// Home is the HOME of git http-backend, so the user's Git configuration
	// stays out; required.
	Home string
	// Username and Password, when Username is set, require HTTP basic
	// authentication; requests without them get 401.
	Username, Password string
	// Stderr receives git http-backend's stderr; nil discards it.
	Stderr io.Writer
}

// Handler serves the repositories under root (e.g. root/fleet.git at
// /fleet.git) with git http-backend, found through `git --exec-path`.
func Handler(root string, o Options) (http.Handler, error) {
	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		return nil, fmt.Errorf("finding git http-backend (is git installed?): %w", err)
	}
	stderr := o.Stderr
	if stderr == nil {
		stderr = io.Discard
	}
	backend := &cgi.Handler{
		Path:   filepath.Join(strings.TrimSpace(string(out)), "git-http-backend"),
		Dir:    root,
		Stderr: stderr,
		Env: []string{
			"GIT_PROJECT_ROOT=" + root,
			"GIT_HTTP_EXPORT_ALL=1",
			"GIT_CONFIG_NOSYSTEM=1",
			"HOME=" + o.Home,
			"GIT_CONFIG_COUNT=1",
			"GIT_CONFIG_KEY_0=http.receivepack",
			"GIT_CONFIG_VALUE_0=true",
		},
	}
	return withAuth(o, unchunk(backend)), nil
}

// unchunk buffers chunked request bodies (git uses them for large pushes)
// because net/http/cgi rejects them: CGI needs CONTENT_LENGTH.
func unchunk(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength < 0 || len(r.TransferEncoding) > 0 {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
			r.TransferEncoding = nil
		}
		next.ServeHTTP(w, r)
	})
}

// withAuth wraps next with basic authentication when o asks for it,
// comparing in constant time.
func withAuth(o Options, next http.Handler) http.Handler {
	if o.Username == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		userOK := subtle.ConstantTimeCompare([]byte(user), []byte(o.Username)) == 1
		passOK := subtle.ConstantTimeCompare([]byte(pass), []byte(o.Password)) == 1
		if !ok || !userOK || !passOK {
			w.Header().Set("WWW-Authenticate", `Basic realm="flotilla"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}
