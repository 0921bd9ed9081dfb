package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/image/policy"
	"github.com/flotilla-io/flotilla/internal/image/registry"
	"github.com/flotilla-io/flotilla/internal/image/tagstore"
	"github.com/flotilla-io/flotilla/internal/ociimage/ocitest"
)

const (
	user     = "bench"
	password = "bench-registry-password"
	repoName = "team/app"
	// signatures is one tag in this many that is a cosign signature
	// (sha256-<digest>.sig), which the default exclusion list leaves out.
	signatures = 10
)

// fixture is a registry holding the repository's tags.
type fixture struct {
	reg      ocitest.Registry
	tags     int
	kept     int
	pushTime time.Duration
}

// generateTags returns n tags: semantic versions, with every tenth a
// signature tag.
func generateTags(n int) (tags []string, kept int) {
	for i := range n {
		if i%signatures == signatures-1 {
			tags = append(tags, fmt.Sprintf("sha256-%064x.sig", i))
			continue
		}
		tags = append(tags, fmt.Sprintf("%d.%d.%d", i/1000, (i/100)%10, i%100))
		kept++
	}
	return tags, kept
}

// makeFixture starts the registry and pushes the tags (not timed as a scan).
func makeFixture(ctx context.Context, tmp string, o options) (*fixture, error) {
	reg, err := ocitest.StartRegistry(tmp, user, password)
	if err != nil {
		return nil, err
	}
	f := &fixture{reg: reg, tags: o.tags}
	tags, kept := generateTags(o.tags)
	f.kept = kept
	start := time.Now()
	if _, err := ocitest.TagImage(ctx, f.reg, user, password, repoName, "bench", tags...); err != nil {
		reg.Close()
		return nil, err
	}
	f.pushTime = time.Since(start)
	return f, nil
}

// scanResult is one timed scan and what follows it.
type scanResult struct {
	scan, store, choose time.Duration
	tags                int
	winner              string
}

// timeScan lists the tags as the ImageRepository controller does, stores
// them, and chooses the newest 0.x version as an ImagePolicy would.
func timeScan(ctx context.Context, f *fixture, o options, dir string) (scanResult, error) {
	ca, err := f.reg.CAPEM()
	if err != nil {
		return scanResult{}, err
	}
	var auths registry.Auths
	cfg := fmt.Appendf(nil, `{"auths":{%q:{"username":%q,"password":%q}}}`, f.reg.Host, user, password)
	if err := auths.Add("bench", cfg); err != nil {
		return scanResult{}, err
	}
	keep, err := registry.Excluder(v1alpha1.DefaultExclusionList)
	if err != nil {
		return scanResult{}, err
	}
	var r scanResult
	start := time.Now()
	c, err := registry.New(f.reg.Host+"/"+repoName, registry.WithAuths(&auths), registry.WithCA(ca), registry.WithPageSize(o.pageSize))
	if err != nil {
		return r, err
	}
	tags, err := c.ListTags(ctx, keep, v1alpha1.DefaultMaxTags)
	if err != nil {
		return r, err
	}
	r.scan, r.tags = time.Since(start), len(tags)
	start = time.Now()
	store := tagstore.New(filepath.Join(dir, "image-tags"))
	if _, err := store.Write(tagstore.Key{Namespace: "bench", Name: "app", UID: "u"}, tags); err != nil {
		return r, err
	}
	r.store = time.Since(start)
	start = time.Now()
	pol, err := policy.New(v1alpha1.ImagePolicySpec{Policy: v1alpha1.ImagePolicyChoice{SemVer: &v1alpha1.SemVerPolicy{Range: "0.x"}}})
	if err != nil {
		return r, err
	}
	r.winner = pol.Choose(tags).Winner
	r.choose = time.Since(start)
	return r, os.RemoveAll(dir)
}
