package git

import (
	"context"

	"github.com/go-git/go-git/v5/plumbing/transport"
)

// Auth returns the go-git auth method for rawURL with c: basic or bearer
// auth for http(s), a key with host key checking for ssh, nil for file://.
// Writers (package gitwrite) use it to push with the GitRepository's
// credentials.
func Auth(rawURL string, c Credentials) (transport.AuthMethod, error) {
	return authFor(rawURL, c)
}

// ProxyOptions returns the proxy options that bound an ssh connection to
// rawURL by ctx (see sshdial.go), and a function to call when the
// operation is done. Other schemes get no proxy.
func ProxyOptions(ctx context.Context, rawURL string) (transport.ProxyOptions, func()) {
	f := &fetcher{opts: FetchOptions{URL: rawURL}}
	return f.proxyOptions(ctx)
}

// Classify wraps a go-git error with the sentinel that names its cause
// (ErrAuthentication, ErrHostKey, ErrUnreachable, ...).
func Classify(ctx context.Context, err error) error {
	return classify(ctx, err)
}
