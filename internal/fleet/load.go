package fleet

import "github.com/go-git/go-git/v5/plumbing/object"

// Snapshots reads the two revisions of a plan from r. An empty base is
// the merge-base of HEAD with the default branch; an empty head
// (WorkingTree) is the working tree, uncommitted changes included.
func Snapshots(r *Repo, base, head string) (b, h *Snapshot, br, hr Revision, err error) {
	bc, desc, err := r.baseCommit(base)
	if err != nil {
		return nil, nil, br, hr, err
	}
	br = Revision{Name: short(bc.Hash), Description: desc}
	if b, err = r.CommitSnapshot(bc); err != nil {
		return nil, nil, br, hr, err
	}
	if head == WorkingTree {
		hr = Revision{Name: "working tree", Description: "uncommitted changes included"}
		h, err = r.WorktreeSnapshot()
		return b, h, br, hr, err
	}
	hc, err := r.Resolve(head)
	if err != nil {
		return nil, nil, br, hr, err
	}
	hr = Revision{Name: short(hc.Hash), Description: head}
	h, err = r.CommitSnapshot(hc)
	return b, h, br, hr, err
}

// baseCommit resolves base, or finds the default base when it is empty.
func (r *Repo) baseCommit(base string) (*object.Commit, string, error) {
	if base == "" {
		return r.DefaultBase()
	}
	c, err := r.Resolve(base)
	return c, base, err
}
