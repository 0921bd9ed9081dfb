package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/bench/harness"
	"github.com/flotilla-io/flotilla/internal/gitserve"
	"github.com/flotilla-io/flotilla/internal/ociimage/ocitest"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

const (
	ns           = "bench"
	appName      = "app"
	imageRepo    = "team/app"
	regUser      = "bench"
	regPassword  = "bench-registry-password"
	gitUser      = "fleet"
	gitPassword  = "bench-git-password"
	gitRepoName  = "fleet"
	manifestPath = "apps/app.yaml"
	firstTag     = "v1.0.0"
)

// fixture is everything one invocation measures against.
type fixture struct {
	env   *controlplane.Env
	dir   string
	git   *gitserve.HTTPServer
	reg   ocitest.Registry
	bare  string // the bare repository the ImageUpdate pushes to
	agent *harness.Agent
	image string // host/team/app
}

// manifest is the Deployment in Git, its image marked for the policy.
func manifest(image string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %s
  namespace: %s
spec:
  selector:
    matchLabels: {app: %s}
  template:
    metadata:
      labels: {app: %s}
    spec:
      containers:
        - name: app
          image: %s # {"$imagepolicy": "%s:%s"}
`, appName, ns, appName, appName, image, ns, appName)
}

// setUp starts the control plane, the registry with v1.0.0, the Git
// server with the marked manifest and the agent, and creates the objects.
func setUp(ctx context.Context, o options, binary string, log *harness.Progress) (f *fixture, err error) {
	f = &fixture{}
	if f.dir, err = os.MkdirTemp("", "flotilla-bench-imagedelay-"); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, f.tearDown(true))
		}
	}()
	log.Printf("starting kube-apiserver and etcd")
	if f.env, err = controlplane.Start(); err != nil {
		return f, err
	}
	gitURL, err := f.startServers()
	if err != nil {
		return f, fmt.Errorf("starting the registry and the Git server: %w", err)
	}
	if err := f.push(ctx, firstTag); err != nil {
		return f, err
	}
	if err := f.createObjects(ctx, o, gitURL); err != nil {
		return f, err
	}
	log.Printf("starting the agent")
	if f.agent, err = harness.StartAgent(binary, f.env.Kubeconfig, f.dir); err != nil {
		return f, err
	}
	wait, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return f, f.agent.WaitMetrics(wait)
}

// startServers starts the registry and the Git server with the marked
// manifest committed; it returns the repository's URL.
func (f *fixture) startServers() (gitURL string, err error) {
	if f.reg, err = ocitest.StartRegistry(f.dir, regUser, regPassword); err != nil {
		return "", err
	}
	f.image = f.reg.Host + "/" + imageRepo
	root := &gitserve.Root{Dir: f.dir}
	files := map[string]string{manifestPath: manifest(f.image + ":" + firstTag)}
	if _, _, err := root.Seed(gitRepoName, f.dir, files, "the app at "+firstTag); err != nil {
		return "", err
	}
	f.bare = root.Path(gitRepoName)
	if f.git, err = gitserve.StartHTTP(root, gitserve.WithBasicAuth(gitUser, gitPassword)); err != nil {
		return "", err
	}
	return f.git.RepoURL(gitRepoName), nil
}

// tearDown stops the agent, the servers and the control plane; keep leaves
// the directory with the agent's log for a failed run to be read.
func (f *fixture) tearDown(keep bool) error {
	if f.agent != nil {
		f.agent.Stop()
	}
	if f.git != nil {
		f.git.Close()
	}
	if f.reg.Close != nil {
		f.reg.Close()
	}
	var err error
	if f.env != nil {
		err = f.env.Stop()
	}
	if keep {
		return errors.Join(err, fmt.Errorf("the agent's log and the repositories are kept in %s", f.dir))
	}
	return errors.Join(err, os.RemoveAll(f.dir))
}

// push tags a small image as tag in the registry.
func (f *fixture) push(ctx context.Context, tag string) error {
	_, err := ocitest.TagImage(ctx, f.reg, regUser, regPassword, imageRepo, tag, tag)
	return err
}

// createObjects creates the namespace, the Secrets and the four objects of
// an image update: GitRepository, ImageRepository, ImagePolicy, ImageUpdate.
func (f *fixture) createObjects(ctx context.Context, o options, gitURL string) error {
	ca, err := f.reg.CAPEM()
	if err != nil {
		return err
	}
	auth := base64.StdEncoding.EncodeToString([]byte(regUser + ":" + regPassword))
	hour := metav1.Duration{Duration: time.Hour}
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		&corev1.Secret{ObjectMeta: meta("registry-creds"), Type: corev1.SecretTypeDockerConfigJson,
			Data: map[string][]byte{corev1.DockerConfigJsonKey: fmt.Appendf(nil, `{"auths":{%q:{"username":%q,"password":%q,"auth":%q}}}`, f.reg.Host, regUser, regPassword, auth)}},
		&corev1.Secret{ObjectMeta: meta("registry-ca"), Data: map[string][]byte{"ca.crt": ca}},
		&corev1.Secret{ObjectMeta: meta("git-auth"), Data: map[string][]byte{"username": []byte(gitUser), "password": []byte(gitPassword)}},
		&v1alpha1.GitRepository{ObjectMeta: meta(gitRepoName), Spec: v1alpha1.GitRepositorySpec{
			URL: gitURL, Interval: hour, SecretRef: &v1alpha1.LocalObjectReference{Name: "git-auth"}}},
		&v1alpha1.ImageRepository{ObjectMeta: meta(appName), Spec: v1alpha1.ImageRepositorySpec{
			Image: f.image, Interval: metav1.Duration{Duration: o.interval},
			SecretRef:     &v1alpha1.LocalObjectReference{Name: "registry-creds"},
			CertSecretRef: &v1alpha1.LocalObjectReference{Name: "registry-ca"}}},
		&v1alpha1.ImagePolicy{ObjectMeta: meta(appName), Spec: v1alpha1.ImagePolicySpec{
			ImageRepositoryRef: v1alpha1.LocalObjectReference{Name: appName},
			Policy:             v1alpha1.ImagePolicyChoice{SemVer: &v1alpha1.SemVerPolicy{Range: ">=1.0.0"}}}},
		&v1alpha1.ImageUpdate{ObjectMeta: meta(appName), Spec: v1alpha1.ImageUpdateSpec{
			SourceRef: v1alpha1.SourceReference{Kind: v1alpha1.GitRepositoryKind, Name: gitRepoName},
			Git: v1alpha1.GitUpdateSpec{
				Commit: v1alpha1.CommitSpec{Author: v1alpha1.CommitUser{Name: "Flotilla", Email: "flotilla@example.com"}},
				Push:   &v1alpha1.PushSpec{Branch: "main"},
			},
			Update:   &v1alpha1.UpdateStrategy{Strategy: "Setters", Path: "apps"},
			Interval: hour}},
	}
	for _, obj := range objs {
		if err := f.env.Client.Create(ctx, obj); err != nil {
			return fmt.Errorf("creating %T %s: %w", obj, obj.GetName(), err)
		}
	}
	return nil
}

func meta(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }

// head returns the commit of main in the bare repository.
func (f *fixture) head(ctx context.Context) (string, error) {
	return git(ctx, f.bare, "rev-parse", "refs/heads/main")
}

// fileAt returns the manifest at commit.
func (f *fixture) fileAt(ctx context.Context, commit string) (string, error) {
	return git(ctx, f.bare, "show", commit+":"+manifestPath)
}

func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s in %s: %w", strings.Join(args, " "), filepath.Base(dir), err)
	}
	return strings.TrimSpace(string(out)), nil
}

// latest returns the ImagePolicy's chosen tag and the ImageUpdate's
// observed one.
func (f *fixture) latest(ctx context.Context) (chosen, observed string, err error) {
	var p v1alpha1.ImagePolicy
	if err := f.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: appName}, &p); err != nil {
		return "", "", err
	}
	if p.Status.LatestRef != nil {
		chosen = p.Status.LatestRef.Tag
	}
	var u v1alpha1.ImageUpdate
	if err := f.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: appName}, &u); err != nil {
		return "", "", err
	}
	return chosen, u.Status.ObservedPolicies[appName].Tag, nil
}
