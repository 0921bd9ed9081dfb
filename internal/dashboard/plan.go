package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/flotilla-io/flotilla/internal/fleet"
)

// planTimeout bounds one plan.
const planTimeout = 2 * time.Minute

// planner runs internal/fleet.Plan on the clone, one plan at a time.
type planner struct {
	mu   sync.Mutex
	repo *repoReader
}

func newPlanner(r *repoReader) *planner { return &planner{repo: r} }

// servePlan is GET /api/plan?head=BRANCH[&base=REV].
func (s *Server) servePlan(w http.ResponseWriter, r *http.Request) {
	if s.repo == nil {
		writeError(w, http.StatusBadRequest, "the plan needs the fleet repository: start the dashboard with --repo DIR (a clone, bare or not)")
		return
	}
	head := r.URL.Query().Get("head")
	if head == "" {
		writeError(w, http.StatusBadRequest, "name the branch to plan: /api/plan?head=BRANCH")
		return
	}
	p := s.planner.plan(r.Context(), head, r.URL.Query().Get("base"))
	code := http.StatusOK
	if p.Error != "" {
		code = http.StatusUnprocessableEntity
	}
	writeJSON(w, code, p)
}

// plan plans head against base; an empty base is the merge-base of head
// and the default branch.
func (p *planner) plan(ctx context.Context, head, base string) Plan {
	p.mu.Lock()
	defer p.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, planTimeout)
	defer cancel()
	out := Plan{Base: base, Head: head}
	res, err := p.run(ctx, &out)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	out.Result = res
	return out
}

func (p *planner) run(ctx context.Context, out *Plan) (*fleet.Result, error) {
	repo, err := p.open()
	if err != nil {
		return nil, err
	}
	if out.Base == "" {
		if out.Base, err = p.mergeBase(repo, out.Head); err != nil {
			return nil, err
		}
	}
	base, head, br, hr, err := fleet.Snapshots(repo, out.Base, out.Head)
	if err != nil {
		return nil, err
	}
	o := fleet.DefaultOptions(base, head)
	o.BaseRevision, o.HeadRevision = br, hr
	return fleet.Plan(ctx, o)
}

// open opens the clone for the plan engine, afresh: its snapshots cache
// blobs and are not for concurrent use.
func (p *planner) open() (*fleet.Repo, error) {
	if p.repo.bare {
		return fleet.OpenBare(p.repo.dir)
	}
	return fleet.OpenRepo(p.repo.dir)
}

// mergeBase is the merge-base of head and the default branch, as a hash.
func (p *planner) mergeBase(repo *fleet.Repo, head string) (string, error) {
	branch := p.repo.info().Branch
	hc, err := repo.Resolve(head)
	if err != nil {
		return "", err
	}
	bc, err := repo.Resolve(branch)
	if err != nil {
		return "", err
	}
	bases, err := hc.MergeBase(bc)
	if err != nil {
		return "", fmt.Errorf("merge-base of %s and %s: %w", head, branch, err)
	}
	if len(bases) == 0 {
		return "", fmt.Errorf("%s and %s have no common ancestor: pass base", head, branch)
	}
	return bases[0].Hash.String(), nil
}
