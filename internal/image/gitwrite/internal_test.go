package gitwrite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	gogit "github.com/go-git/go-git/v5"
)

func TestPushBranchOfARequest(t *testing.T) {
	tests := []struct {
		name string
		req  Request
		want string
	}{
		{"the branch by default", Request{Branch: "main"}, "main"},
		{"the push branch when set", Request{Branch: "main", PushBranch: "auto"}, "auto"},
		{"the refspec when there is no push branch", Request{Branch: "main", Refspec: "refs/heads/main:refs/heads/x"}, "refs/heads/main:refs/heads/x"},
		{"the push branch before the refspec", Request{Branch: "main", PushBranch: "auto", Refspec: "refs/heads/main:refs/heads/x"}, "auto"},
	}
	for _, tt := range tests {
		if got := tt.req.pushBranch(); got != tt.want {
			t.Errorf("%s: pushBranch() = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestIsRejected(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{gogit.ErrNonFastForwardUpdate, true},
		{fmt.Errorf("push: %w", gogit.ErrNonFastForwardUpdate), true},
		{errors.New("command error on refs/heads/main: failed to update ref"), true},
		{errors.New("! [rejected] main -> main (fetch first)"), true},
		{errors.New("! [rejected] main -> main (non-fast-forward)"), true},
		{errors.New("cannot lock ref 'refs/heads/main'"), true},
		{errors.New("! [rejected] main -> main (stale info)"), true},
		{errors.New("remote: failed to lock"), true},
		{errors.New("authentication required"), false},
		{errors.New("pre-receive hook declined"), false},
		{context.DeadlineExceeded, false},
	}
	for _, tt := range tests {
		if got := isRejected(tt.err); got != tt.want {
			t.Errorf("isRejected(%q) = %v, want %v", tt.err, got, tt.want)
		}
	}
	if !lostRace(fmt.Errorf("%w: x", errRejected)) || lostRace(errors.New("the branch moved")) {
		t.Error("lostRace does not go by errRejected alone")
	}
}

func TestErrorMessageAndUnwrap(t *testing.T) {
	cause := errors.New("boom")
	e := &Error{Op: "push to branch main", URL: "https://git.example.com/org/fleet", Err: cause}
	if got, want := e.Error(), "push to branch main of https://git.example.com/org/fleet: boom"; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
	if !errors.Is(e, cause) {
		t.Error("Unwrap does not reach the cause")
	}
}

func TestNewWriterOptions(t *testing.T) {
	w := NewWriter()
	if w.maxAttempts != 5 || w.backoff != 250*time.Millisecond || w.workDir != "" || w.beforePush != nil {
		t.Errorf("defaults = %+v", w)
	}
	calls := 0
	w = NewWriter(WithMaxAttempts(0), WithBackoff(time.Second), WithWorkDir("/data"), WithBeforePush(func(int) { calls++ }))
	if w.maxAttempts != 1 {
		t.Errorf("WithMaxAttempts(0) = %d, want at least one attempt", w.maxAttempts)
	}
	if w.backoff != time.Second || w.workDir != "/data" {
		t.Errorf("options = %+v", w)
	}
	w.beforePush(1)
	if calls != 1 {
		t.Error("WithBeforePush did not keep the function")
	}
}

func TestLockWaitsAndHonoursTheContext(t *testing.T) {
	w := NewWriter()
	unlock, err := w.lock(context.Background(), "k")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := w.lock(ctx, "k"); !errors.Is(err, context.Canceled) {
		t.Fatalf("second lock of a held key = %v, want context.Canceled", err)
	}
	got := make(chan error, 1)
	go func() {
		u, err := w.lock(context.Background(), "k")
		if err == nil {
			u()
		}
		got <- err
	}()
	unlock()
	if err := <-got; err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
}

func TestWriteWaitingForABusyWriterNamesTheBranch(t *testing.T) {
	w := NewWriter()
	req := Request{URL: "https://user:tok-secret@git.example.com/org/fleet", Branch: "main", PushBranch: "auto"}
	unlock, err := w.lock(context.Background(), req.URL+"\x00auto")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = w.Write(ctx, req)
	var we *Error
	if !errors.As(err, &we) || we.Op != "wait for the writer of branch auto" || !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v", err)
	}
	if strings.Contains(err.Error(), "tok-secret") {
		t.Errorf("error %q holds the credential of the URL", err)
	}
}

func armoredPublicKey(t *testing.T) []byte {
	t.Helper()
	e, err := openpgp.NewEntity("Flotilla", "", "flotilla@example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	var pub bytes.Buffer
	wc, err := armor.Encode(&pub, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Serialize(wc); err != nil {
		t.Fatal(err)
	}
	if err := wc.Close(); err != nil {
		t.Fatal(err)
	}
	return pub.Bytes()
}

func TestParseSigningKeyRefusals(t *testing.T) {
	tests := []struct {
		name string
		key  []byte
		want string
	}{
		{"empty", nil, `secret key "git.asc" is not an armored OpenPGP key`},
		{"not armored", []byte("-----BEGIN NOTHING-----\n"), `secret key "git.asc" is not an armored OpenPGP key`},
		{"a public key only", armoredPublicKey(t), `secret key "git.asc" holds no private key`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSigningKey(tt.key, nil)
			if !errors.Is(err, ErrSigningKey) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want ErrSigningKey with %q", err, tt.want)
			}
		})
	}
}
