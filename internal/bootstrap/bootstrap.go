package bootstrap

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"net/url"
	"os"
	"path/filepath"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/internal/apply"
	"github.com/flotilla-io/flotilla/internal/install"
	"github.com/flotilla-io/flotilla/internal/redact"
	"github.com/flotilla-io/flotilla/internal/render"
	"github.com/flotilla-io/flotilla/internal/stackspec"
)

// run is one bootstrap in progress.
type run struct {
	opts     Options
	c        client.Client
	progress func(string)
	result   Result
}

// Run bootstraps the cluster that cfg reaches: see the package
// documentation. progress, when not nil, hears each step as a line. Errors
// and progress lines never hold a credential.
func Run(ctx context.Context, cfg *rest.Config, opts Options, progress func(string)) (Result, error) {
	if progress == nil {
		progress = func(string) {}
	}
	red := opts.redactor()
	if err := opts.validate(); err != nil {
		return Result{}, errors.New(red.Error(err))
	}
	c, err := client.New(cfg, client.Options{Scheme: v1alpha1.NewScheme()})
	if err != nil {
		return Result{}, fmt.Errorf("connecting to %s: %s", cfg.Host, red.Error(err))
	}
	r := &run{opts: opts, c: c, progress: func(s string) { progress(red.String(s)) }}
	err = r.run(ctx)
	if err != nil {
		return r.result, errors.New(red.Error(err))
	}
	return r.result, nil
}

func (r *run) run(ctx context.Context) error {
	tmp, err := os.MkdirTemp("", "flotilla-bootstrap-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	co, err := r.clone(ctx, filepath.Join(tmp, "repo"))
	if err != nil {
		return err
	}
	components, err := install.Objects(r.opts.Install)
	if err != nil {
		return err
	}
	sync, err := r.opts.syncObjects()
	if err != nil {
		return err
	}
	dir := filepath.Join(co.dir, filepath.FromSlash(r.opts.Path))
	_, statErr := os.Stat(dir)
	write := errors.Is(statErr, os.ErrNotExist)
	if write {
		r.progress(fmt.Sprintf("%s does not exist on branch %s: writing the agent's manifests and the sync objects there", r.opts.Path, r.opts.Branch))
		if err := writeDirectory(dir, components, sync); err != nil {
			return fmt.Errorf("writing %s: %w", r.opts.Path, err)
		}
	} else {
		r.progress(fmt.Sprintf("%s exists on branch %s: nothing to commit", r.opts.Path, r.opts.Branch))
	}
	rendered, err := r.render(ctx, co.dir)
	if err != nil {
		return err
	}
	r.adopt(rendered, components, sync)
	if err := r.check(ctx, rendered); err != nil {
		return err
	}
	if err := r.apply(ctx, "installing the agent", components); err != nil {
		return err
	}
	if err := r.applySecret(ctx); err != nil {
		return err
	}
	if write {
		if err := r.push(ctx, co); err != nil {
			return err
		}
	}
	r.result.Commit = co.head()
	if err := r.apply(ctx, "creating the GitRepository and the root Stack", sync); err != nil {
		return err
	}
	if !r.opts.Wait {
		return nil
	}
	return r.wait(ctx)
}

// clone prepares the credentials (scanning the ssh host key when none are
// given) and clones the branch.
func (r *run) clone(ctx context.Context, dir string) (*checkout, error) {
	u, _ := url.Parse(r.opts.URL)
	if u.Scheme == "ssh" && len(r.opts.KnownHosts) == 0 {
		line, fp, err := scanHostKey(ctx, r.opts.URL)
		if err != nil {
			return nil, err
		}
		r.opts.KnownHosts, r.result.HostKeyFingerprint = line, fp
		r.progress(fmt.Sprintf("ssh host key of %s: %s (check it out of band; pass --known-hosts-file to pin it)", u.Host, fp))
	}
	auth, err := r.opts.auth()
	if err != nil {
		return nil, err
	}
	r.progress(fmt.Sprintf("cloning %s (branch %s)", redact.URL(r.opts.URL), r.opts.Branch))
	co, err := r.opts.clone(ctx, dir, auth)
	if err != nil {
		return nil, fmt.Errorf("cloning %s: %w; check the URL and the credentials", redact.URL(r.opts.URL), err)
	}
	return co, nil
}

// render builds the cluster's directory as the root Stack will.
func (r *run) render(ctx context.Context, root string) ([]*unstructured.Unstructured, error) {
	st := r.opts.rootStack()
	vars, _, err := stackspec.Variables(ctx, r.c, st)
	if err != nil {
		return nil, err
	}
	objs, err := render.Build(ctx, stackspec.RenderOptions(st, root, vars))
	if err != nil {
		return nil, fmt.Errorf("the root Stack could not render %s: %w", r.opts.Path, err)
	}
	r.progress(fmt.Sprintf("rendered %s: %d objects", r.opts.Path, len(objs)))
	return objs, nil
}

// adopt labels the objects the root Stack will apply as the root Stack's,
// so install's apply and the Stack's agree. It reports objects whose
// manifest in Git differs from what this run installs: the root Stack
// applies Git's.
func (r *run) adopt(rendered []*unstructured.Unstructured, sets ...[]*unstructured.Unstructured) {
	inGit := map[string]*unstructured.Unstructured{}
	for _, u := range rendered {
		inGit[apply.MetadataOf(u).Key()] = u
	}
	for _, set := range sets {
		for _, u := range set {
			git, ok := inGit[apply.MetadataOf(u).Key()]
			if !ok {
				continue
			}
			if !sameJSON(git.Object, u.Object) {
				r.progress(fmt.Sprintf("warning: %s in %s differs from what this bootstrap installs; the root Stack will apply the version in Git", apply.MetadataOf(u), r.opts.Path))
			}
			install.SetOwner([]*unstructured.Unstructured{u}, r.opts.StackName, r.opts.Install.Namespace)
		}
	}
}

// check refuses a directory whose objects another Stack already owns: the
// root Stack could not apply them.
func (r *run) check(ctx context.Context, rendered []*unstructured.Unstructured) error {
	var errs []error
	for _, u := range rendered {
		live := apply.MetadataOf(u).Unstructured()
		err := r.c.Get(ctx, client.ObjectKeyFromObject(live), live)
		if err != nil {
			continue // absent, or its kind comes with the set
		}
		l := live.GetLabels()
		name, ns := l[apply.OwnerNameLabel], l[apply.OwnerNamespaceLabel]
		if name != "" && (name != r.opts.StackName || ns != r.opts.Install.Namespace) {
			errs = append(errs, fmt.Errorf("%s in %s is already managed by the Stack %s/%s; remove it from one of the two", apply.MetadataOf(u), r.opts.Path, ns, name))
		}
	}
	return errors.Join(errs...)
}

func (r *run) apply(ctx context.Context, what string, objs []*unstructured.Unstructured) error {
	r.progress(what)
	cs, err := install.Apply(ctx, r.c, objs, r.progress)
	r.result.Changes.Append(cs)
	return err
}

// applySecret stores the credentials, when there are any.
func (r *run) applySecret(ctx context.Context) error {
	if !r.opts.hasCredentials() {
		return nil
	}
	s, err := r.opts.secret()
	if err != nil {
		return err
	}
	return r.apply(ctx, "storing the credentials in Secret "+r.opts.Install.Namespace+"/"+r.opts.SecretName, []*unstructured.Unstructured{s})
}

func (r *run) push(ctx context.Context, co *checkout) error {
	r.progress(fmt.Sprintf("committing %s and pushing branch %s", r.opts.Path, r.opts.Branch))
	hash, err := co.commitAndPush(ctx, r.opts.Path, "Add Flotilla to "+r.opts.Path)
	if err != nil {
		return err
	}
	r.result.Committed = true
	r.progress(fmt.Sprintf("pushed commit %s to %s", hash[:12], r.opts.Branch))
	return nil
}

// sameJSON compares two objects as JSON, so that numbers decoded as
// int64 and as float64 compare equal.
func sameJSON(a, b map[string]any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}
