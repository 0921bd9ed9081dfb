package git

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/go-git/go-git/v5/plumbing/transport"
	"golang.org/x/net/proxy"
)

// go-git's ssh transport dials with a context but runs the ssh handshake,
// and the whole session after it, without one, so a server that accepts the
// connection and then says nothing hangs a fetch forever (upstream:
// https://github.com/golang/go/issues/15113, the same in x/crypto/ssh's own
// Dial). The one seam go-git offers on that path is the proxy dialer: an ssh
// fetch names a "proxy" of the scheme below, whose dialer connects directly
// and closes the connection when the fetch's context ends.

const contextDialScheme = "flotilla-context"

var (
	dialContexts sync.Map // id (string) -> context.Context
	nextDialID   atomic.Uint64
)

func init() {
	proxy.RegisterDialerType(contextDialScheme, func(u *url.URL, _ proxy.Dialer) (proxy.Dialer, error) {
		ctx, ok := dialContexts.Load(u.Host)
		if !ok {
			return nil, errors.New("the fetch that asked for this connection has ended")
		}
		return contextDialer{ctx: ctx.(context.Context)}, nil
	})
}

// sshProxyOptions registers ctx for one fetch and returns the options that
// route its ssh connections through contextDialer, and a release function.
func sshProxyOptions(ctx context.Context) (transport.ProxyOptions, func()) {
	id := "fetch-" + strconv.FormatUint(nextDialID.Add(1), 10)
	dialContexts.Store(id, ctx)
	return transport.ProxyOptions{URL: contextDialScheme + "://" + id}, func() { dialContexts.Delete(id) }
}

// contextDialer dials directly and ties the connection's life to ctx.
type contextDialer struct{ ctx context.Context }

var _ proxy.ContextDialer = contextDialer{}

// Dial implements proxy.Dialer.
func (d contextDialer) Dial(network, addr string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, addr)
}

// DialContext implements proxy.ContextDialer.
func (d contextDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	dialCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopDial := context.AfterFunc(d.ctx, cancel)
	defer stopDial()
	var nd net.Dialer
	conn, err := nd.DialContext(dialCtx, network, addr)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(d.ctx, func() { conn.Close() })
	return &contextConn{Conn: conn, stop: stop}, nil
}

// contextConn stops watching the context once closed.
type contextConn struct {
	net.Conn
	stop func() bool
}

// Close implements net.Conn.
func (c *contextConn) Close() error {
	c.stop()
	return c.Conn.Close()
}
