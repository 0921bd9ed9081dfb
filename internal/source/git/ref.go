package git

import (
	"errors"
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// Reference selects a revision. When several fields are set, Commit wins,
// then SemVer, then Tag, then Branch; with none set the branch main is used.
type Reference struct {
	Branch string
	Tag    string
	SemVer string
	Commit string
}

// Kind names which field of a Reference decides the checkout.
type Kind string

// The kinds of Reference, in order of precedence.
const (
	KindCommit Kind = "commit"
	KindSemVer Kind = "semver"
	KindTag    Kind = "tag"
	KindBranch Kind = "branch"
)

// DefaultBranch is checked out when a Reference is empty.
const DefaultBranch = "main"

// Kind returns the field that decides the checkout.
func (r Reference) Kind() Kind {
	switch {
	case r.Commit != "":
		return KindCommit
	case r.SemVer != "":
		return KindSemVer
	case r.Tag != "":
		return KindTag
	default:
		return KindBranch
	}
}

// BranchOrDefault returns the branch, or main when none is set.
func (r Reference) BranchOrDefault() string {
	if r.Branch == "" {
		return DefaultBranch
	}
	return r.Branch
}

// String describes the reference for messages, e.g. "branch main".
func (r Reference) String() string {
	switch r.Kind() {
	case KindCommit:
		return "commit " + r.Commit
	case KindSemVer:
		return "semver range " + r.SemVer
	case KindTag:
		return "tag " + r.Tag
	default:
		return "branch " + r.BranchOrDefault()
	}
}

// Revision formats a revision as Flux does: <name>@sha1:<commit>, where name
// is the branch or tag, or sha1:<commit> for a commit without a branch.
func Revision(name, commit string) string {
	if name == "" {
		return "sha1:" + commit
	}
	return name + "@sha1:" + commit
}

// ErrInvalidReference means a reference cannot be used as written.
var ErrInvalidReference = errors.New("invalid reference")

// NewestTag returns the tag that is the highest version within the range
// constraint. Tags that are not versions are skipped; a leading "v" is
// allowed. Prereleases match only when the range itself names one, as in
// semver's usual rules. Of two tags with the same version ("1.0.0" and
// "v1.0.0") the lexically greater wins, so the choice is stable.
func NewestTag(tags []string, constraint string) (string, error) {
	c, err := semver.NewConstraint(constraint)
	if err != nil {
		return "", fmt.Errorf("%w: semver range %q: %s", ErrInvalidReference, constraint, err)
	}
	var best string
	var bestVersion *semver.Version
	for _, tag := range tags {
		v, err := semver.NewVersion(tag)
		if err != nil || !c.Check(v) {
			continue
		}
		if bestVersion == nil || v.GreaterThan(bestVersion) || (v.Equal(bestVersion) && tag > best) {
			best, bestVersion = tag, v
		}
	}
	if best == "" {
		return "", fmt.Errorf("%w: no tag matches semver range %q", ErrRefNotFound, constraint)
	}
	return best, nil
}

// tagNames returns the short names of refs/tags/* references, peeled
// entries ("^{}") skipped.
func tagNames(refs []string) []string {
	var tags []string
	for _, r := range refs {
		name, ok := strings.CutPrefix(r, "refs/tags/")
		if ok && !strings.HasSuffix(name, "^{}") {
			tags = append(tags, name)
		}
	}
	return tags
}
