package demo

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/install"
	"github.com/flotilla-io/flotilla/internal/notify"
)

// The broken commit of the alerts step and what the demo names its objects.
const (
	brokenFile    = "apps/base/hello/kustomization.yaml"
	brokenOld     = "  - hpa.yaml\n"
	brokenNew     = "  - hpa.yaml\n  - missing.yaml\n"
	brokenMessage = "hello: list a file that is not there"
	alertName     = "fleet"
	receiverName  = "fleet-push"
	// podWebhookPort is where the agent Pod serves Receivers (--webhook-addr's default).
	podWebhookPort = "9292"
)

// alertsAndWebhooks shows a broken commit alerting a local "Slack" and the
// fix resolving it, every push reaching the clusters through their
// Receivers (a signed webhook, as a forge sends it) instead of annotations.
func (f *fleet) alertsAndWebhooks(ctx context.Context) error {
	s, err := startSlackSink(f.repoHost(), f.o.Out)
	if err != nil {
		return err
	}
	defer s.close()
	fmt.Fprintf(f.o.Out, "\nAlerts and webhooks: each cluster gets a Provider (a local \"Slack\" at %s), an Alert on its Stacks and a Receiver\n", s.url)
	hooks, err := f.setUpNotifications(ctx, s)
	if err != nil {
		return err
	}
	if err := f.repo.edit(brokenFile, brokenOld, brokenNew); err != nil {
		return err
	}
	broken, err := f.repo.commitAndPush(ctx, brokenMessage)
	if err != nil {
		return err
	}
	fmt.Fprintf(f.o.Out, "\nA broken commit: %s %q\n", short(broken), brokenMessage)
	f.deliverPush(ctx, hooks, broken)
	if err := f.waitMessages(ctx, s, notify.KindFailure); err != nil {
		return err
	}
	if _, err := f.repo.git(ctx, f.repo.work, "revert", "--no-edit", "HEAD"); err != nil {
		return err
	}
	if _, err := f.repo.git(ctx, f.repo.work, "push", "-q", "origin", "main"); err != nil {
		return err
	}
	fixed, err := f.repo.git(ctx, f.repo.work, "rev-parse", "HEAD")
	if err != nil {
		return err
	}
	fmt.Fprintf(f.o.Out, "\nThe fix: %s (git revert)\n", short(fixed))
	f.deliverPush(ctx, hooks, fixed)
	if err := f.converge(ctx, fixed, "fixing"); err != nil {
		return err
	}
	return f.waitMessages(ctx, s, notify.KindResolved)
}

// repoHost is the address the demo's servers listen on: the Git server's
// host, which the agent Pod reaches too.
func (f *fleet) repoHost() string {
	if u, err := url.Parse(f.repo.url); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return "127.0.0.1"
}

// hook is one cluster's Receiver: where to post and the key to sign with.
type hook struct {
	cluster *cluster
	url     string
	token   string
}

// setUpNotifications creates each cluster's Provider, Alert and Receiver
// and returns the Receivers' URLs once they are Ready.
func (f *fleet) setUpNotifications(ctx context.Context, s *slackSink) ([]hook, error) {
	var hooks []hook
	for _, c := range f.clusters {
		token := rand.Text()
		objs := []client.Object{
			&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: Namespace, Name: "demo-slack"}, StringData: map[string]string{"address": s.url + "/services/" + c.name}},
			&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: Namespace, Name: "demo-webhook"}, StringData: map[string]string{"token": token}},
			&v1alpha1.Provider{ObjectMeta: metav1.ObjectMeta{Namespace: Namespace, Name: "slack"}, Spec: v1alpha1.ProviderSpec{
				Type: v1alpha1.ProviderSlack, Channel: "#fleet", SecretRef: &v1alpha1.LocalObjectReference{Name: "demo-slack"}}},
			&v1alpha1.Alert{ObjectMeta: metav1.ObjectMeta{Namespace: Namespace, Name: alertName}, Spec: v1alpha1.AlertSpec{
				ProviderRef: v1alpha1.LocalObjectReference{Name: "slack"}, EventSeverity: v1alpha1.EventSeverityError,
				EventSources: []v1alpha1.EventSourceReference{{Kind: v1alpha1.StackKind, Name: driftStackName}},
				GroupBy:      []string{"revision"}, EventMetadata: map[string]string{"cluster": c.name}}},
			&v1alpha1.Receiver{ObjectMeta: metav1.ObjectMeta{Namespace: Namespace, Name: receiverName}, Spec: v1alpha1.ReceiverSpec{
				Type: v1alpha1.ReceiverGitHub, Events: []string{"push"}, SecretRef: v1alpha1.LocalObjectReference{Name: "demo-webhook"},
				Resources: []v1alpha1.EventSourceReference{{Kind: v1alpha1.GitRepositoryKind, Name: sourceName}}}},
		}
		for _, o := range objs {
			if err := c.client.Create(ctx, o); err != nil {
				return nil, fmt.Errorf("creating %T %s on %s: %w", o, o.GetName(), c.name, err)
			}
		}
		path, err := f.waitReceiver(ctx, c)
		if err != nil {
			return nil, err
		}
		hooks = append(hooks, hook{cluster: c, url: "http://" + f.webhookAddr(ctx, c) + path, token: token})
	}
	f.o.Report.Step("✔ Receivers Ready on %d clusters (flotilla get receivers shows each path)", len(hooks))
	return hooks, nil
}

// waitReceiver returns the cluster's Receiver path once it is Ready.
func (f *fleet) waitReceiver(ctx context.Context, c *cluster) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, f.o.Wait)
	defer cancel()
	for {
		var r v1alpha1.Receiver
		if err := c.client.Get(ctx, client.ObjectKey{Namespace: Namespace, Name: receiverName}, &r); err == nil &&
			meta.IsStatusConditionTrue(r.Status.Conditions, v1alpha1.ReadyCondition) && r.Status.WebhookPath != "" {
			return r.Status.WebhookPath, nil
		}
		f.o.Report.Waiting("waiting for the Receiver of %s", c.name)
		if err := f.pause(ctx); err != nil {
			return "", fmt.Errorf("waiting for the Receiver of %s: %w", c.name, err)
		}
	}
}

// webhookAddr is where the cluster's agent serves webhooks: the process
// beside it, or the agent Pod on the node.
func (f *fleet) webhookAddr(ctx context.Context, c *cluster) string {
	for _, a := range f.agents {
		if a.cluster == c.name {
			return a.WebhookAddr()
		}
	}
	var pods corev1.PodList
	if err := c.client.List(ctx, &pods, client.InNamespace(Namespace), client.MatchingLabels{install.NameLabel: install.AgentName}); err == nil {
		for _, p := range pods.Items {
			if p.Status.PodIP != "" && p.DeletionTimestamp.IsZero() {
				return net.JoinHostPort(p.Status.PodIP, podWebhookPort)
			}
		}
	}
	return "" // no agent to reach: the push falls back to an annotation
}

// deliverPush posts a push event, signed as GitHub signs it, to every
// cluster's Receiver; a cluster whose agent cannot be reached is asked by
// annotation instead, and the demo says so.
func (f *fleet) deliverPush(ctx context.Context, hooks []hook, sha string) {
	body := fmt.Appendf(nil, `{"ref":"refs/heads/main","after":%q}`, sha)
	var reached []string
	for _, h := range hooks {
		if err := postSigned(ctx, h, body); err != nil {
			f.o.Report.Step("  %s: the webhook did not reach the agent (%v); asked by annotation instead", h.cluster.name, err)
			f.annotate(ctx, h.cluster)
			continue
		}
		reached = append(reached, h.cluster.name)
	}
	if len(reached) > 0 {
		f.o.Report.Step("✔ a signed push webhook reached the Receivers of %s", strings.Join(reached, ", "))
	}
}

func postSigned(ctx context.Context, h hook, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, strings.NewReader(string(body)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-Hub-Signature-256", "sha256="+notify.Sign([]byte(h.token), body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// annotate asks the cluster's GitRepository to fetch now, as rollOut does.
func (f *fleet) annotate(ctx context.Context, c *cluster) {
	_ = requestFetch(ctx, c)
}

// waitMessages waits until the sink got a message of kind from every cluster.
func (f *fleet) waitMessages(ctx context.Context, s *slackSink, kind string) error {
	ctx, cancel := context.WithTimeout(ctx, f.o.Wait)
	defer cancel()
	for {
		missing, total := s.missing(f.clusters, kind)
		if len(missing) == 0 {
			f.o.Report.Step("✔ a %s message from each cluster (%d in all)", kind, total)
			return nil
		}
		f.o.Report.Waiting("waiting for the %s message of %s", kind, strings.Join(missing, ", "))
		if err := f.pause(ctx); err != nil {
			return fmt.Errorf("waiting for %s messages: %w (agent logs: %s)", kind, err, f.dir)
		}
	}
}

// slackSink stands in for Slack in the demo: an HTTP server in this
// process that prints each message it receives.
type slackSink struct {
	srv *http.Server
	url string
	out io.Writer

	mu   sync.Mutex
	kind map[string][]string // cluster -> kinds received
}

func startSlackSink(host string, out io.Writer) (*slackSink, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, fmt.Errorf("starting the demo's Slack: %w", err)
	}
	s := &slackSink{url: "http://" + ln.Addr().String(), out: out, kind: map[string][]string{}}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func (s *slackSink) close() { _ = s.srv.Close() }

// ServeHTTP prints one Slack message: its cluster, colour and text.
func (s *slackSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cluster := strings.TrimPrefix(r.URL.Path, "/services/")
	var m struct {
		Text        string `json:"text"`
		Attachments []struct {
			Color string `json:"color"`
		} `json:"attachments"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&m); err != nil {
		http.Error(w, "not a Slack message", http.StatusBadRequest)
		return
	}
	kind, mark := notify.KindFailure, "🔴"
	if len(m.Attachments) > 0 && m.Attachments[0].Color != "#a30200" {
		kind, mark = notify.KindResolved, "🟢"
	}
	s.mu.Lock()
	s.kind[cluster] = append(s.kind[cluster], kind)
	s.mu.Unlock()
	fmt.Fprintf(s.out, "  %s slack #fleet ← [%s] %s\n", mark, cluster, m.Text)
	w.WriteHeader(http.StatusOK)
}

// missing names the clusters that sent no message of kind yet; total
// counts the messages of kind from every cluster.
func (s *slackSink) missing(clusters []*cluster, kind string) (out []string, total int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range clusters {
		n := 0
		for _, k := range s.kind[c.name] {
			if k == kind {
				n++
			}
		}
		if n == 0 {
			out = append(out, c.name)
		}
		total += n
	}
	return out, total
}
