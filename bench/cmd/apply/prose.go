package main

import (
	"fmt"
	"time"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/bench/harness"
)

// printer writes the report.
type printer struct{ harness.Printer }

// prose is a figure's description: a paragraph in Markdown, a line in text.
type prose struct{ markdown, text string }

// section prints one figure: heading, description, table, command.
func (p *printer) section(title string, about prose, t harness.Table, cmd string) {
	p.Heading(title)
	if p.Markdown {
		p.Printf("%s\n\n", about.markdown)
	} else {
		p.Printf("%s\n\n", about.text)
	}
	p.Table(t)
	p.Command(cmd)
}

func (p *printer) intro(r report) {
	if p.Markdown {
		p.Printf("Measured on %s at commit `%s` on %s, control plane from `hack/testenv.sh`, in %s. ",
			r.machine.Date, r.machine.Commit, r.machine, r.elapsed.Round(time.Second))
		p.Printf("Whole section: `make bench-apply`. Each cell is the minimum / median over %s, each size of each run on a fresh control plane with a fresh agent (one number when they are equal).\n\n", r.runs())
		return
	}
	p.Printf("Apply benchmark: %s\n%s in %s; cells are min / median over runs (one number when equal)\n\n", r.machine, r.runs(), r.elapsed.Round(time.Second))
}

func (r report) applyText() prose {
	return prose{
		markdown: "A Stack of N objects of mixed kinds (`harness.Mixed`: a Namespace per 100 objects, a CRD, then ConfigMaps, Secrets, headless Services, Deployments, ServiceAccounts, Roles, RoleBindings and custom resources of the CRD in turn, one file each) " +
			"is applied by a `flotilla agent` process, from a Git repository served over smart HTTP. The clock runs from the request that creates the Stack until the benchmark sees it Ready at the pushed revision (it reads the Stack every 20 ms); the GitRepository was created and fetched before, not timed. " +
			"The **floor** is the least a program can do for the same number of objects: one server-side apply request per object, nothing else (see the notes). The ratio is taken in each run, then the min / median of the ratios.",
		text: "Stack creation to Ready at the revision, against a floor of bare server-side apply requests; ratio per run",
	}
}

func (r report) resourcesText() prose {
	return prose{
		markdown: "The agent process at each size, read from `/proc/<pid>` once the Stack is Ready: its peak resident memory (`VmHWM`), its CPU time (`utime + stime`, 10 ms ticks) since it started (start-up, caches, the Git fetch and the apply), and the CPU of the apply alone, from the Stack's creation to Ready.",
		text:     "agent process after the initial apply: VmHWM, CPU since its start, CPU from Stack creation to Ready",
	}
}

func (r report) noopText() prose {
	return prose{
		markdown: "Once the Stack is Ready and the agent has sent nothing for 1 s, one reconcile, measured until the agent is quiet again: " +
			"the agent's API requests by HTTP method (client-go's `rest_client_requests_total`, scraped from its metrics: a LIST or WATCH is a GET, a dry-run is a PATCH), the reconcile's wall time (`flotilla_reconcile_duration_seconds`, kind Stack) and the agent's CPU over the window.\n\n" +
			"- **steady state (interval reconcile)**: the Stack's interval is set to " + steadyInterval.String() + " for the measure (that spec change's own re-apply is not measured). The interval reconcile finds the same render applied, the Stack Ready at the revision and the drift watch synced, so it skips the apply: what every interval costs a Ready Stack. Its agent CPU covers the whole wait for the interval, idle included (up to " + steadyInterval.String() + ").\n" +
			"- **full re-apply (reconcile request)**: a reconcile request (the `" + v1alpha1.ReconcileRequestAnnotation + "` annotation, what `flotilla reconcile` sets) always re-applies, as the safety interval (`--drift-safety-interval`, default 1h) and an agent restart do: the agent reads what the Stack owns, dry-runs every object and writes none, as nothing changed.",
		text: "one reconcile of the Ready Stack; requests by HTTP method, reconcile wall time, agent CPU; steady = interval reconcile, full = reconcile request",
	}
}

func (r report) pruneText() prose {
	return prose{
		markdown: fmt.Sprintf("A commit removes every other object file outside the Namespaces and the CRD (half of the other objects, in name order) and is pushed; right after the push a reconcile request on the GitRepository makes the agent fetch at once. "+
			"The clock runs from the end of the push until the Stack is Ready at the new revision and a LIST of each kind shows none of the removed objects. The Stack sets `maxPrunePercent: %d` explicitly (the default cap is 50%%, and the prune removes just under half of the inventory). "+
			"The Stack's time includes the fetch, the render and the dry-run of the objects that stay, as every new revision does. The **floor** deletes as many of the floor's objects (the same selection of its own set) with one DELETE each (background propagation) and nothing else, %d at a time, with the same client rate limit; the clock runs from its first request to its last response.", maxPrunePercent, floorConcurrency),
		text: "commit removing half the objects, push, GitRepository reconcile request; push to Ready at the new revision with the objects gone; floor = bare DELETEs of as many objects",
	}
}

func (p *printer) notes(r report) {
	if !p.Markdown {
		return
	}
	qps, burst := r.o.qps()
	p.Printf("Notes:\n\n")
	p.Printf("- The agent is `flotilla agent`, built from this commit once per invocation and run as its own process out of cluster (`--kubeconfig`), one fresh process per size and run, with Flotilla's CRDs installed beforehand. Defaults otherwise: `--concurrency 4`, the apply engine's %d requests in flight within a stage, `--drift-safety-interval 1h`.\n", floorConcurrency)
	if r.o.rateLimit == rateLimitAgent {
		p.Printf("- Client rate limit: the defaults of `flotilla agent` (`--kube-api-qps %g --kube-api-burst %d`), for the agent and the floor alike.\n", qps, burst)
	} else {
		p.Printf("- Client rate limit: `--kube-api-qps %g --kube-api-burst %d` for the agent, and the same for the floor. The agent's defaults (QPS 50, burst 300) would make the client's rate limiter the thing measured at 1000 objects and more: add `-rate-limit agent` to measure with those.\n", qps, burst)
	}
	p.Printf("- The floor (`bench/cmd/apply/floor.go`) parses the same number of objects beforehand (harness.Mixed under another prefix, so they are new objects in other Namespaces on the same API server; the CRD is shared, created by whichever side goes first), then sends controller-runtime `Client.Apply` requests (server-side apply, field manager `%s`, force ownership): the Namespaces and the CRD first, then, once discovery serves the CRD's kind, the rest, %d at a time, with the agent's client rate limit. It does not render, read, dry-run, label, record an inventory or write a status, which the agent does. The clock runs from its first request to its last response.\n", floorManager, floorConcurrency)
	p.Printf("- Order: the floor goes first on odd runs (1, 3, ...), Flotilla first on even runs, so neither always meets a warmer or a more loaded API server.\n")
	p.Printf("- The Stack: interval 1h (no interval reconcile during a run), timeout %s, `prune: true`, `maxPrunePercent: %d`, no `wait` and no health checks: the control plane has no controller-manager, so Deployments never become available and a Stack that waited for them would never be Ready.\n", r.o.timeout, maxPrunePercent)
	p.Printf("- kube-apiserver, etcd, the Git server and this benchmark run on the same CPUs as the agent; their CPU is not counted in the agent's.\n")
}
