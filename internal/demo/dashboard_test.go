package demo

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/flotilla-io/flotilla/internal/dashboard"
)

// TestListenDashboardTakesAFreePortWhenTaken serves the dashboard on
// another port of the same host when the asked one is taken, as two demos
// at once need.
func TestListenDashboardTakesAFreePortWhenTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	s, err := dashboard.New(dashboard.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got, served, err := listenDashboard(ctx, s, taken.Addr().String())
	if err != nil {
		t.Fatalf("listenDashboard on a taken port: %v", err)
	}
	u, err := url.Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	if u.Hostname() != "127.0.0.1" || u.Host == taken.Addr().String() {
		t.Errorf("listenDashboard on taken %s serves at %s, want another port of 127.0.0.1", taken.Addr(), got)
	}
	resp, err := http.Get(got + "api/fleet")
	if err != nil {
		t.Fatalf("GET %sapi/fleet: %v", got, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"clusters"`) {
		t.Errorf("GET %sapi/fleet = %d %s, want the fleet", got, resp.StatusCode, body)
	}
	cancel()
	if err := <-served; err != nil {
		t.Errorf("the dashboard's server ended with %v", err)
	}
}

// TestListenDashboardNamesABadAddress says which flag is wrong.
func TestListenDashboardNamesABadAddress(t *testing.T) {
	s, err := dashboard.New(dashboard.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = listenDashboard(context.Background(), s, "not-an-address")
	if err == nil || !strings.Contains(err.Error(), "--dashboard-address not-an-address") {
		t.Errorf("listenDashboard(not-an-address) = %v, want an error naming --dashboard-address", err)
	}
}

// TestStartDashboardOff serves nothing for "" and "off".
func TestStartDashboardOff(t *testing.T) {
	for _, addr := range []string{"", "off"} {
		f := &fleet{o: Options{DashboardAddress: addr}}
		if err := f.startDashboard(context.Background()); err != nil || f.dashboardURL != "" || len(f.stops) != 0 {
			t.Errorf("startDashboard with address %q = %v, URL %q, %d stops; want nothing served", addr, err, f.dashboardURL, len(f.stops))
		}
	}
}
