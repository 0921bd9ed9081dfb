package demo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"

	"k8s.io/client-go/rest"

	"github.com/flotilla-io/flotilla/internal/dashboard"
)

// dashboardOff is the --dashboard-address value that serves no dashboard.
const dashboardOff = "off"

// startDashboard serves the fleet dashboard (docs/dashboard.md) over every
// cluster of the demo, with the demo's repository for the behind counts,
// commit messages and plans, and actions allowed: the fleet is the user's
// own and thrown away at the end. It runs until teardown.
func (f *fleet) startDashboard(ctx context.Context) error {
	addr := f.o.DashboardAddress
	if addr == "" || addr == dashboardOff {
		return nil
	}
	clusters := make([]dashboard.ClusterConfig, len(f.clusters))
	for i, c := range f.clusters {
		clusters[i] = dashboard.ClusterConfig{Name: c.name, Config: rest.CopyConfig(c.config)}
	}
	s, err := dashboard.New(dashboard.Options{Clusters: clusters, Repo: f.repo.bare(), AllowActions: true})
	if err != nil {
		return fmt.Errorf("starting the dashboard: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	url, served, err := listenDashboard(ctx, s, addr)
	if err != nil {
		cancel()
		return err
	}
	ran := make(chan error, 1)
	go func() { ran <- s.Run(ctx) }()
	f.dashboardURL = url
	f.stops = append(f.stops, func() error {
		cancel()
		return errors.Join(<-ran, <-served)
	})
	f.o.Report.Step("%s", f.dashboardLine())
	return nil
}

// listenDashboard listens on addr, or on a free port of its host when
// addr's port is taken (another demo, another dashboard).
func listenDashboard(ctx context.Context, s *dashboard.Server, addr string) (string, <-chan error, error) {
	url, served, err := dashboard.Listen(ctx, s, addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		host, _, splitErr := net.SplitHostPort(addr)
		if splitErr != nil {
			return "", nil, err
		}
		url, served, err = dashboard.Listen(ctx, s, net.JoinHostPort(host, "0"))
	}
	if err != nil {
		return "", nil, fmt.Errorf("serving the dashboard (--dashboard-address %s): %w", addr, err)
	}
	return url, served, nil
}

// dashboardLine is how the demo points at its dashboard.
func (f *fleet) dashboardLine() string {
	return fmt.Sprintf("Dashboard: %s (the fleet, live)", f.dashboardURL)
}
