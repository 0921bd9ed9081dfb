package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/bench/harness"
)

const (
	// gitValue is data.value of every ConfigMap of the revert figure in Git.
	gitValue = "from-git"
	// editor is the field manager of the hand edits.
	editor = "bench-editor"
)

// sighting is one watch event of a ConfigMap, stamped when it arrived.
type sighting struct {
	name, value string
	rv          uint64
	at          time.Time
}

// measureRevert makes o.edits hand edits, one at a time, to the ConfigMaps
// of a Stack that a `flotilla agent` process made Ready, and returns, per
// edit, the time from the patch response to the watch event that shows the
// Git value back. One warm-up edit, not counted, waits for the agent's
// drift watch to start. It deletes the Stack afterwards.
func measureRevert(ctx context.Context, c *cluster, a *harness.Agent, o options, log *harness.Progress) ([]time.Duration, error) {
	const ns, name = "bench-revert", "revert"
	if err := c.createNamespace(ctx, ns); err != nil {
		return nil, err
	}
	rev, err := c.publish(ctx, ns, name, harness.ConfigMaps(name, ns, "settings", o.revertObjects, gitValue))
	if err != nil {
		return nil, err
	}
	key, err := c.createStack(ctx, ns, name, time.Hour, 5*time.Minute)
	if err != nil {
		return nil, err
	}
	if err := c.waitStackReady(ctx, key, rev, 5*time.Minute); err != nil {
		return nil, err
	}
	log.Printf("revert latency: Stack of %d ConfigMaps Ready; %d edits", o.revertObjects, o.edits)
	seen, stop, err := watchConfigMaps(ctx, c, ns)
	if err != nil {
		return nil, err
	}
	defer stop()
	latencies := make([]time.Duration, 0, o.edits)
	for i := -1; i < o.edits; i++ { // edit -1 is the warm-up
		d, err := editAndWait(ctx, c, seen, ns, fmt.Sprintf("settings-%03d", (i+o.revertObjects)%o.revertObjects), i)
		if err != nil {
			return nil, fmt.Errorf("%w (agent log: %s)", err, a.LogPath())
		}
		if i >= 0 {
			latencies = append(latencies, d)
		}
		// The correction is followed by a drift record on the Stack and an
		// event: let them land, so each edit meets an idle agent.
		if err := waitAgentQuiet(ctx, a, 50*time.Millisecond); err != nil {
			return nil, err
		}
	}
	return latencies, deleteStack(ctx, c, key)
}

// waitAgentQuiet waits until the agent process has sent no API request for
// d, as its rest_client_requests_total tells.
func waitAgentQuiet(ctx context.Context, a *harness.Agent, d time.Duration) error {
	total := func() (float64, error) {
		fams, err := a.Gather()
		sum := 0.0
		for _, n := range harness.RESTRequests(fams) {
			sum += n
		}
		return sum, err
	}
	last, err := total()
	if err != nil {
		return err
	}
	since := time.Now()
	return poll(ctx, time.Minute, 10*time.Millisecond, "the agent to go quiet", func() error {
		n, err := total()
		switch {
		case err != nil:
			return err
		case n != last:
			last, since = n, time.Now()
		case time.Since(since) >= d:
			return nil
		}
		return errors.New("requests sent")
	})
}

// watchConfigMaps streams the ConfigMaps of ns as they change.
func watchConfigMaps(ctx context.Context, c *cluster, ns string) (<-chan sighting, func(), error) {
	list, err := c.kube.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, nil, err
	}
	w, err := c.kube.CoreV1().ConfigMaps(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
	if err != nil {
		return nil, nil, err
	}
	out := make(chan sighting, 1024)
	go func() {
		defer close(out)
		for ev := range w.ResultChan() {
			at := time.Now()
			cm, ok := ev.Object.(*corev1.ConfigMap)
			if !ok {
				continue
			}
			rv, err := strconv.ParseUint(cm.ResourceVersion, 10, 64)
			if err != nil {
				continue
			}
			out <- sighting{name: cm.Name, value: cm.Data["value"], rv: rv, at: at}
		}
	}()
	return out, w.Stop, nil
}

// editAndWait changes data.value of one ConfigMap as the editor and waits
// for the watch to show the Git value again.
func editAndWait(ctx context.Context, c *cluster, seen <-chan sighting, ns, name string, i int) (time.Duration, error) {
	patch := fmt.Sprintf(`{"data":{"value":"hand-edit-%d"}}`, i)
	edited, err := c.kube.CoreV1().ConfigMaps(ns).Patch(ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: editor})
	if err != nil {
		return 0, fmt.Errorf("editing %s/%s: %w", ns, name, err)
	}
	patched := time.Now()
	rv, err := strconv.ParseUint(edited.ResourceVersion, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("resourceVersion %q of %s/%s: %w", edited.ResourceVersion, ns, name, err)
	}
	timeout := time.After(time.Minute)
	for {
		select {
		case s, ok := <-seen:
			if !ok {
				return 0, fmt.Errorf("the watch of %s ended", ns)
			}
			if s.name == name && s.rv > rv && s.value == gitValue {
				// The event can beat the patch response back: that is 0.
				return max(s.at.Sub(patched), 0), nil
			}
		case <-timeout:
			return 0, fmt.Errorf("edit %d of %s/%s not reverted within a minute", i, ns, name)
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

func deleteStack(ctx context.Context, c *cluster, key types.NamespacedName) error {
	s := &v1alpha1.Stack{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
	if err := c.env.Client.Delete(ctx, s); err != nil {
		return err
	}
	return poll(ctx, 5*time.Minute, 50*time.Millisecond, "Stack "+key.String()+" to be deleted", func() error {
		err := c.env.Client.Get(ctx, key, s)
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("still there (%v)", err)
	})
}
