// Command app is the example fleet's workload: a small HTTP server that
// says who it is (/), its version (/version), whether it is alive
// (/healthz) and ready (/readyz), and exposes Prometheus metrics
// (/metrics) in the shape progressive-delivery analyses query:
// http_requests_total{code,method} and the
// http_request_duration_seconds{code,method} histogram.
//
// A Deployment makes it a bad release through its pod template:
// APP_ERROR_PERCENT answers 500 to that share of the traffic, APP_DELAY
// slows every answer (README.md).
//
// It drains on SIGTERM: /readyz answers 503 for -drain-delay so load
// balancers stop sending traffic, then the server shuts down gracefully.
// Its version is set at link time: -ldflags "-X main.version=v1.2.3".
//
// `app get URL` is a client instead: it prints the body of a GET, so that
// a Pod of this image (no shell, no curl) can check DNS and Services.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/flotilla-io/flotilla/examples/app/server"
)

// version is the app's version, set with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	var err error
	if len(os.Args) == 3 && os.Args[1] == "get" {
		err = getURL(ctx, os.Args[2], os.Stdout)
	} else {
		err = run(ctx, os.Args[1:], os.Getenv, os.Stderr)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "app:", err)
		os.Exit(1)
	}
}

// run parses args (with defaults from getenv), listens and serves until ctx
// is done, then drains and shuts down.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	o, err := parseOptions(args, getenv, stderr)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	log.Info("listening", "addr", ln.Addr().String(), "version", version)
	return serve(ctx, ln, server.NewServer(o), log)
}

// parseOptions reads the flags; each defaults to an APP_* environment
// variable, then to DefaultOptions.
func parseOptions(args []string, getenv func(string) string, stderr io.Writer) (server.Options, error) {
	o := server.DefaultOptions()
	o.Version = version
	fs := flag.NewFlagSet("app", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.Addr, "addr", envOr(getenv, "APP_ADDR", o.Addr), "listen address ($APP_ADDR)")
	fs.StringVar(&o.Name, "name", envOr(getenv, "APP_NAME", o.Name), "app name in responses ($APP_NAME)")
	fs.StringVar(&o.Message, "message", envOr(getenv, "APP_MESSAGE", o.Message), "message in responses ($APP_MESSAGE)")
	durations := []struct {
		d         *time.Duration
		flag, env string
		usage     string
	}{
		{&o.ReadyAfter, "ready-after", "APP_READY_AFTER", "not ready until this long after start"},
		{&o.DrainDelay, "drain-delay", "APP_DRAIN_DELAY", "how long /readyz fails after SIGTERM before shutting down"},
		{&o.ShutdownTimeout, "shutdown-timeout", "APP_SHUTDOWN_TIMEOUT", "how long in-flight requests may take to finish"},
		{&o.Delay, "delay", "APP_DELAY", "added to every answer of / and /version (a slow release)"},
	}
	for _, d := range durations {
		def, err := parsedEnvOr(getenv, d.env, *d.d, time.ParseDuration)
		if err != nil {
			return server.Options{}, err
		}
		fs.DurationVar(d.d, d.flag, def, d.usage+" ($"+d.env+")")
	}
	errorPercent, err := parsedEnvOr(getenv, "APP_ERROR_PERCENT", o.ErrorPercent, strconv.Atoi)
	if err != nil {
		return server.Options{}, err
	}
	fs.IntVar(&o.ErrorPercent, "error-percent", errorPercent, "percent of / and /version requests answered 500, 0-100 (a bad release) ($APP_ERROR_PERCENT)")
	if err := fs.Parse(args); err != nil {
		return server.Options{}, err
	}
	if fs.NArg() > 0 {
		return server.Options{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return o, o.Validate()
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

// parsedEnvOr is the environment variable key parsed with parse, or def
// when it is unset.
func parsedEnvOr[T any](getenv func(string) string, key string, def T, parse func(string) (T, error)) (T, error) {
	v := getenv(key)
	if v == "" {
		return def, nil
	}
	parsed, err := parse(v)
	if err != nil {
		var zero T
		return zero, fmt.Errorf("$%s: %w", key, err)
	}
	return parsed, nil
}

// serve serves s on ln until ctx is done, then fails /readyz for the drain
// delay and shuts down, letting in-flight requests finish.
func serve(ctx context.Context, ln net.Listener, s *server.Server, log *slog.Logger) error {
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("draining", "delay", s.DrainDelay())
	s.Drain()
	time.Sleep(s.DrainDelay())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.ShutdownTimeout())
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}
