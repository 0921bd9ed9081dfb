package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/flotilla-io/flotilla/bench/harness"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

// pollEvery is how often the benchmark looks at the branch head and the
// ImagePolicy: the resolution of every figure.
const pollEvery = 20 * time.Millisecond

// update is one measured image update.
type update struct {
	tag    string
	commit string
	// chosen is from the tag's push to the ImagePolicy's choice of it: the
	// wait for the next scan, the scan and the choice.
	chosen time.Duration
	// total is from the tag's push to the commit on main.
	total time.Duration
}

// run measures every update, then writes the report to stdout (and -update).
func run(ctx context.Context, o options, stdout, stderr io.Writer) error {
	ctrl.SetLogger(logr.Discard()) // the control plane's client logs nothing the figures need
	log := harness.NewProgress(stderr)
	r := results{o: o, machine: harness.DescribeMachine(controlplane.ModuleRoot()), load: harness.LoadAverage()}
	binDir, err := os.MkdirTemp("", "flotilla-bench-bin-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(binDir)
	log.Printf("building flotilla for the agent process")
	binary := filepath.Join(binDir, "flotilla")
	if err := harness.BuildFlotilla(ctx, controlplane.ModuleRoot(), binary); err != nil {
		return err
	}
	f, err := setUp(ctx, o, binary, log)
	if err != nil {
		return err
	}
	if err := measure(ctx, o, f, log, &r); err != nil {
		return errors.Join(fmt.Errorf("%w (agent log: %s)", err, f.agent.LogPath()), f.tearDown(true))
	}
	if err := f.tearDown(false); err != nil {
		return err
	}
	r.elapsed = log.Elapsed()
	return harness.Publish(harness.Report{Section: "Image delay", Write: r.write, Headlines: r.headlines()}, stdout, o.headlines, o.update, log)
}

// measure waits for the first choice, then pushes one new tag per run.
func measure(ctx context.Context, o options, f *fixture, log *harness.Progress, r *results) error {
	log.Printf("waiting for the ImagePolicy and the ImageUpdate to see %s", firstTag)
	err := poll(ctx, f, o.timeout, "the first choice "+firstTag, func() (bool, error) {
		chosen, observed, err := f.latest(ctx)
		return chosen == firstTag && observed == firstTag, err
	})
	if err != nil {
		return err
	}
	head, err := f.head(ctx)
	if err != nil {
		return err
	}
	for i := range o.runs {
		// Push at a random point of the scan cycle, as a CI pipeline would.
		time.Sleep(rand.N(o.interval))
		u, err := timeUpdate(ctx, o, f, fmt.Sprintf("v1.%d.0", i+1), head)
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		log.Printf("run %d/%d: %s chosen after %s, committed after %s (%.7s)", i+1, o.runs, u.tag,
			u.chosen.Round(time.Millisecond), u.total.Round(time.Millisecond), u.commit)
		r.updates = append(r.updates, u)
		head = u.commit
	}
	return nil
}

// timeUpdate pushes tag and waits until main moves past head to a commit
// whose manifest names the tag.
func timeUpdate(ctx context.Context, o options, f *fixture, tag, head string) (update, error) {
	u := update{tag: tag}
	if err := f.push(ctx, tag); err != nil {
		return u, err
	}
	pushed := time.Now()
	err := poll(ctx, f, o.timeout, "a commit of "+tag, func() (bool, error) {
		if u.chosen == 0 {
			chosen, _, err := f.latest(ctx)
			if err != nil {
				return false, err
			}
			if chosen == tag {
				u.chosen = time.Since(pushed)
			}
		}
		now, err := f.head(ctx)
		if err != nil || now == head {
			return false, err
		}
		at := time.Since(pushed)
		file, err := f.fileAt(ctx, now)
		if err != nil {
			return false, err
		}
		if !strings.Contains(file, ":"+tag+" #") {
			return false, fmt.Errorf("main moved to %s without %s:\n%s", now, tag, file)
		}
		u.commit, u.total = now, at
		if u.chosen == 0 || u.chosen > at {
			u.chosen = at // the choice and the commit fell between two polls
		}
		return true, nil
	})
	return u, err
}

// poll calls cond every pollEvery until it is done, fails, the agent
// exits, ctx ends or timeout passes.
func poll(ctx context.Context, f *fixture, timeout time.Duration, what string, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		done, err := cond()
		if err != nil || done {
			return err
		}
		if err := f.agent.Exited(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s waiting for %s", timeout, what)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, context.Cause(ctx))
		case <-time.After(pollEvery):
		}
	}
}
