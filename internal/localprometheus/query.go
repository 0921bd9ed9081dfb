package localprometheus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// API returns a client of the server's HTTP API.
func (s *Server) API() (promv1.API, error) {
	c, err := api.NewClient(api.Config{Address: s.url})
	if err != nil {
		return nil, fmt.Errorf("prometheus: client for %s: %w", s.url, err)
	}
	return promv1.NewAPI(c), nil
}

// WaitFor polls query every ScrapeInterval until it returns a non-empty
// vector, and returns that vector; it fails when ctx ends first, with the
// last error or empty result. A query Prometheus refuses (bad_data: it
// does not parse, say) fails at once with Prometheus's error: waiting
// would not make it valid.
func (s *Server) WaitFor(ctx context.Context, query string) (model.Vector, error) {
	a, err := s.API()
	if err != nil {
		return nil, err
	}
	tick := time.NewTicker(ScrapeInterval)
	defer tick.Stop()
	var last error
	for {
		v, _, err := a.Query(ctx, query, time.Time{})
		if vec, ok := v.(model.Vector); err == nil && ok && len(vec) > 0 {
			return vec, nil
		}
		if apiErr := (*promv1.Error)(nil); errors.As(err, &apiErr) && apiErr.Type == promv1.ErrBadData {
			return nil, fmt.Errorf("prometheus: query %s: %w", query, err)
		}
		last = err
		if last == nil {
			last = fmt.Errorf("no samples yet (result %v)", v)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("prometheus: waiting for %s: %w (last: %v)", query, ctx.Err(), last)
		case <-tick.C:
		}
	}
}
