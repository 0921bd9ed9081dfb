package controller

import (
	"context"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/flotilla-io/flotilla/internal/image/forge"
	"github.com/flotilla-io/flotilla/internal/image/gitwrite"
)

// pullRequestTokenKey is the key of the token in spec.git.push.pullRequest.secretRef.
const pullRequestTokenKey = "token"

// preparePullRequest sets up the forge client and the head branch when
// spec.git.push.pullRequest is set: the commit goes to a branch of this
// automation (push.branch, default flotilla/image-update/NAME), force-pushed
// on each run, never to the checked-out branch.
func (r *ImageUpdateReconciler) preparePullRequest(ctx context.Context, run *imageUpdateRun) error {
	push := run.obj.Spec.Git.Push
	if push == nil || push.PullRequest == nil {
		return nil
	}
	pr := push.PullRequest
	if run.request.PushBranch == "" {
		run.request.PushBranch = "flotilla/image-update/" + run.obj.Name
	}
	if run.request.PushBranch == run.request.Branch {
		return &specError{field: "spec.git.push.branch", msg: "must differ from the checked-out branch " + run.request.Branch + " when a pull request is opened"}
	}
	secret, err := r.secretData(ctx, run.obj.Namespace, pr.SecretRef.Name)
	if err != nil {
		return err
	}
	token := string(secret[pullRequestTokenKey])
	if token == "" {
		return &secretKeyError{secret: run.obj.Namespace + "/" + pr.SecretRef.Name, key: pullRequestTokenKey, field: "spec.git.push.pullRequest.secretRef"}
	}
	run.red.Add(token)
	repo := pr.Repository
	if repo == "" {
		repo = forge.RepositoryFromURL(run.source.Spec.URL)
	}
	run.forge, err = forge.New(forge.Options{Provider: pr.Provider, Address: pr.Address, Repository: repo, Token: token})
	if err != nil {
		return &specError{field: "spec.git.push.pullRequest", msg: err.Error()}
	}
	return nil
}

// finishPullRequest opens or updates the pull request after a push, or
// closes it when the run found nothing to change (the base branch already
// holds the chosen images: the pull request was merged or superseded).
func (r *ImageUpdateReconciler) finishPullRequest(ctx context.Context, run *imageUpdateRun, res *gitwrite.Result) error {
	if run.forge == nil {
		return nil
	}
	obj, head, base := run.obj, run.request.PushBranch, run.request.Branch
	if res.Commit == "" {
		url, err := run.forge.Close(ctx, head, base)
		if err != nil || url == "" {
			return err
		}
		obj.Status.PullRequestURL = ""
		r.Events.Eventf(obj, nil, corev1.EventTypeNormal, ReasonPullRequestClosed, "PullRequest",
			"closed pull request %s: branch %s already holds the chosen images", url, base)
		return nil
	}
	title := obj.Spec.Git.Push.PullRequest.Title
	if title == "" {
		title, _, _ = strings.Cut(run.message, "\n")
	}
	url, err := run.forge.Ensure(ctx, forge.PullRequest{Head: head, Base: base, Title: title, Body: run.message})
	if err != nil {
		return err
	}
	obj.Status.PullRequestURL = url
	r.Events.Eventf(obj, nil, corev1.EventTypeNormal, ReasonPullRequestOpened, "PullRequest",
		"pull request %s from %s into %s holds commit %s", url, head, base, res.Commit)
	return nil
}
