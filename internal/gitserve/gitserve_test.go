package gitserve

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// echo answers with the request's content length and body, as the CGI
// backend would see them.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("X-Content-Length", strconv.FormatInt(r.ContentLength, 10))
	w.Header().Set("X-Transfer-Encoding", strings.Join(r.TransferEncoding, ","))
	_, _ = w.Write(body)
})

func TestWithAuth(t *testing.T) {
	h := withAuth(Options{Username: "bot", Password: "s3cret"}, echo)
	for _, tc := range []struct {
		name       string
		setAuth    bool
		user, pass string
		wantStatus int
	}{
		{"the right user and password", true, "bot", "s3cret", http.StatusOK},
		{"no credentials", false, "", "", http.StatusUnauthorized},
		{"a wrong password", true, "bot", "s3cre", http.StatusUnauthorized},
		{"a wrong user", true, "bob", "s3cret", http.StatusUnauthorized},
		{"an empty password", true, "bot", "", http.StatusUnauthorized},
		{"the password with a suffix", true, "bot", "s3cretX", http.StatusUnauthorized},
		{"user and password swapped", true, "s3cret", "bot", http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/fleet.git/info/refs", nil)
			if tc.setAuth {
				r.SetBasicAuth(tc.user, tc.pass)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.wantStatus {
				t.Fatalf("status = %d, want %d", w.Code, tc.wantStatus)
			}
			if tc.wantStatus == http.StatusUnauthorized {
				if got := w.Header().Get("WWW-Authenticate"); got != `Basic realm="flotilla"` {
					t.Errorf("WWW-Authenticate = %q: git asks for credentials only after a Basic challenge", got)
				}
				if strings.Contains(w.Body.String(), "s3cret") {
					t.Errorf("the 401 body shows the password: %q", w.Body.String())
				}
			}
		})
	}
}

func TestWithAuthWithoutUsernameIsOpen(t *testing.T) {
	h := withAuth(Options{Password: "ignored-without-a-user"}, echo)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if w.Code != http.StatusOK {
		t.Errorf("status = %d without a configured username, want 200", w.Code)
	}
}

func TestUnchunk(t *testing.T) {
	for _, tc := range []struct {
		name          string
		contentLength int64
		chunked       bool
		body          string
	}{
		{"a chunked body gets its length", -1, true, "0032want 0123456789abcdef\n"},
		{"an unknown length is measured", -1, false, "pack data"},
		{"a known length passes as it is", 9, false, "pack data"},
		{"an empty body", 0, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/fleet.git/git-receive-pack", strings.NewReader(tc.body))
			r.ContentLength = tc.contentLength
			if tc.chunked {
				r.TransferEncoding = []string{"chunked"}
			}
			w := httptest.NewRecorder()
			unchunk(echo).ServeHTTP(w, r)
			if got, want := w.Header().Get("X-Content-Length"), strconv.Itoa(len(tc.body)); got != want {
				t.Errorf("content length seen by the backend = %s, want %s", got, want)
			}
			if got := w.Header().Get("X-Transfer-Encoding"); got != "" {
				t.Errorf("transfer encoding seen by the backend = %q, want none", got)
			}
			if w.Body.String() != tc.body {
				t.Errorf("body = %q, want %q", w.Body.String(), tc.body)
			}
		})
	}
}

type brokenBody struct{}

func (brokenBody) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

func TestUnchunkAnUnreadableBodyIsABadRequest(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/", io.NopCloser(brokenBody{}))
	r.ContentLength = -1
	w := httptest.NewRecorder()
	called := false
	unchunk(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true })).ServeHTTP(w, r)
	if w.Code != http.StatusBadRequest || called {
		t.Errorf("status = %d, backend called = %v; want 400 and no call", w.Code, called)
	}
}

// git runs git in dir with the user's configuration kept out.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

func TestHandlerServesClonesAndPushesWithCredentials(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short, which runs unit tests only: this test runs git http-backend")
	}
	root := t.TempDir()
	git(t, root, "init", "--quiet", "--bare", "--initial-branch=main", "fleet.git")
	h, err := Handler(root, Options{Home: t.TempDir(), Username: "bot", Password: "pw-42"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	u, _ := url.Parse(srv.URL + "/fleet.git")
	u.User = url.UserPassword("bot", "pw-42")

	work := filepath.Join(t.TempDir(), "work")
	git(t, "", "init", "--quiet", "--initial-branch=main", work)
	if err := os.WriteFile(filepath.Join(work, "stack.yaml"), []byte("kind: ConfigMap\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git(t, work, "add", ".")
	git(t, work, "commit", "--quiet", "-m", "first")
	head := git(t, work, "rev-parse", "HEAD")
	git(t, work, "push", "--quiet", u.String(), "main")

	clone := filepath.Join(t.TempDir(), "clone")
	git(t, "", "clone", "--quiet", u.String(), clone)
	if got := git(t, clone, "rev-parse", "HEAD"); got != head {
		t.Errorf("cloned HEAD = %s, want the pushed %s", got, head)
	}

	u.User = url.UserPassword("bot", "wrong")
	cmd := exec.Command("git", "ls-remote", u.String())
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "GIT_TERMINAL_PROMPT=0")
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("ls-remote with a wrong password succeeded:\n%s", out)
	}
}
