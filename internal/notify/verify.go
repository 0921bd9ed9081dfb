package notify

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // only when a Receiver explicitly allows SHA-1
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash"
	"net/http"
	"strings"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// Verification failures. Their text is what the sender is told.
var (
	ErrNoSignature  = errors.New("no signature header")
	ErrBadSignature = errors.New("signature does not match")
	ErrSHA1Refused  = errors.New("SHA-1 signatures are refused: send a SHA-256 one (X-Hub-Signature-256), or set allowSHA1 on the Receiver")
	ErrBadAlgorithm = errors.New("unknown signature algorithm")
)

// Verifier is how a Receiver checks a request. It is pure: the same inputs
// always give the same answer, in time independent of how close a wrong
// signature is.
type Verifier struct {
	Type      string
	Token     []byte
	AllowSHA1 bool
}

// VerifyHeaders checks what can be checked before the body is read: the
// GitLab token, and the presence of a signature.
func (v Verifier) VerifyHeaders(h http.Header) error {
	switch v.Type {
	case v1alpha1.ReceiverGitLab:
		got := h.Get("X-Gitlab-Token")
		if got == "" {
			return ErrNoSignature
		}
		if !hmac.Equal([]byte(got), v.Token) {
			return ErrBadSignature
		}
	case v1alpha1.ReceiverGitHub:
		if h.Get("X-Hub-Signature-256") == "" && (h.Get("X-Hub-Signature") == "" || !v.AllowSHA1) {
			if h.Get("X-Hub-Signature") != "" {
				return ErrSHA1Refused
			}
			return ErrNoSignature
		}
	case v1alpha1.ReceiverGenericHMAC:
		if h.Get("X-Signature") == "" {
			return ErrNoSignature
		}
	}
	return nil
}

// VerifyBody checks the body's HMAC for github and generic-hmac.
func (v Verifier) VerifyBody(h http.Header, body []byte) error {
	switch v.Type {
	case v1alpha1.ReceiverGitHub:
		if sig := h.Get("X-Hub-Signature-256"); sig != "" {
			return v.check(sig, body)
		}
		return v.check(h.Get("X-Hub-Signature"), body)
	case v1alpha1.ReceiverGenericHMAC:
		return v.check(h.Get("X-Signature"), body)
	}
	return nil
}

// check verifies "<algo>=<hex>" against the body.
func (v Verifier) check(sig string, body []byte) error {
	algo, hexSig, ok := strings.Cut(sig, "=")
	if !ok {
		return ErrBadSignature
	}
	var h func() hash.Hash
	switch algo {
	case "sha256":
		h = sha256.New
	case "sha512":
		h = sha512.New
	case "sha1":
		if !v.AllowSHA1 {
			return ErrSHA1Refused
		}
		h = sha1.New
	default:
		return ErrBadAlgorithm
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return ErrBadSignature
	}
	mac := hmac.New(h, v.Token)
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return ErrBadSignature
	}
	return nil
}

// EventType returns the sender's event type header, "" when it sends none.
func EventType(receiverType string, h http.Header) string {
	switch receiverType {
	case v1alpha1.ReceiverGitHub:
		return h.Get("X-GitHub-Event")
	case v1alpha1.ReceiverGitLab:
		return h.Get("X-Gitlab-Event")
	}
	return ""
}

// Push is what a verified payload says, for logs: the ref and commit pushed.
type Push struct {
	Ref    string
	Commit string
}

// maxFieldLen bounds the strings taken from a payload into logs.
const maxFieldLen = 256

// ParsePayload reads the ref and commit of a GitHub or GitLab push (the
// fields ref and after; GitLab also checkout_sha). An empty body, or a
// body of another shape, gives an empty Push; only invalid JSON is an error.
func ParsePayload(body []byte) (Push, error) {
	if len(strings.TrimSpace(string(body))) == 0 {
		return Push{}, nil
	}
	var raw any
	if err := json.Unmarshal(body, &raw); err != nil {
		return Push{}, errors.New("the body is not JSON")
	}
	m, _ := raw.(map[string]any)
	out := Push{Ref: str(m["ref"]), Commit: str(m["after"])}
	if out.Commit == "" {
		out.Commit = str(m["checkout_sha"])
	}
	return out, nil
}

func str(v any) string {
	s, _ := v.(string)
	return truncate(s, maxFieldLen)
}
