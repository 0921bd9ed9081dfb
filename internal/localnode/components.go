package localnode

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"time"

	"golang.org/x/crypto/bcrypt"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// httpCheck returns a readiness check that GETs url and wants one of codes
// (200 when none). A client certificate issued as certName is sent when
// certName is set; one that does not load is an error naming its files.
func (c *Cluster) httpCheck(url, certName string, codes ...int) (func(context.Context) error, error) {
	if len(codes) == 0 {
		codes = []int{http.StatusOK}
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.ca.certPEM)
	tc := &tls.Config{RootCAs: pool, InsecureSkipVerify: certName == ""} //nolint:gosec // health ports of components with self-signed certificates
	if certName != "" {
		certFile, keyFile := c.ca.pair(certName)
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("client certificate %s (key %s) for %s: %w", certFile, keyFile, url, err)
		}
		tc.Certificates = []tls.Certificate{pair}
	}
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: tc}}
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		for _, code := range codes {
			if resp.StatusCode == code {
				return nil
			}
		}
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}, nil
}

// startChecked starts the component name with its arguments and waits up
// to timeout until check, built before the start, passes.
func (c *Cluster) startChecked(ctx context.Context, name, bin string, timeout time.Duration, check func(context.Context) error, err error) error {
	if err != nil {
		return &StepError{Step: name, Err: err}
	}
	p, err := c.start(name, bin, c.args(name)...)
	if err != nil {
		return err
	}
	return p.waitReady(ctx, timeout, check)
}

func (c *Cluster) etcdURLs() (client, peer string) {
	return fmt.Sprintf("http://127.0.0.1:%d", c.ports.EtcdClient), fmt.Sprintf("http://127.0.0.1:%d", c.ports.EtcdPeer)
}

func (c *Cluster) etcdArgs() []string {
	client, peer := c.etcdURLs()
	return []string{
		"--data-dir=" + c.path("etcd"), "--listen-client-urls=" + client, "--advertise-client-urls=" + client,
		"--listen-peer-urls=" + peer, "--initial-advertise-peer-urls=" + peer, "--initial-cluster=default=" + peer,
	}
}

func (c *Cluster) startEtcd(ctx context.Context) error {
	client, _ := c.etcdURLs()
	check, err := c.httpCheck(client+"/health", "")
	return c.startChecked(ctx, "etcd", c.bin("etcd"), 30*time.Second, check, err)
}

func (c *Cluster) apiServerArgs() []string {
	pki := func(f string) string { return c.path("pki", f) }
	return []string{
		fmt.Sprintf("--etcd-servers=http://127.0.0.1:%d", c.ports.EtcdClient),
		"--bind-address=" + NodeIP, "--advertise-address=" + NodeIP, fmt.Sprintf("--secure-port=%d", c.ports.APIServer),
		"--tls-cert-file=" + pki("apiserver.crt"), "--tls-private-key-file=" + pki("apiserver.key"),
		"--client-ca-file=" + c.ca.CertFile(),
		"--service-account-issuer=https://kubernetes.default.svc." + ClusterDomain,
		"--service-account-key-file=" + pki("sa.pub"), "--service-account-signing-key-file=" + pki("sa.key"),
		"--service-cluster-ip-range=" + ServiceCIDR,
		"--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
		"--kubelet-client-certificate=" + pki("apiserver-kubelet-client.crt"),
		"--kubelet-client-key=" + pki("apiserver-kubelet-client.key"),
		"--kubelet-certificate-authority=" + c.ca.CertFile(),
		// The node's name does not resolve on the host: reach the kubelet
		// (logs, exec) at its address.
		"--kubelet-preferred-address-types=InternalIP",
		"--allow-privileged=true",
		// Debian's etcd 3.4.23 lacks RequestWatchProgress: streaming lists
		// would fall back to slow re-lists.
		"--feature-gates=WatchList=false",
	}
}

func (c *Cluster) startAPIServer(ctx context.Context) error {
	check, err := c.httpCheck(c.server()+"/readyz", "admin")
	return c.startChecked(ctx, "kube-apiserver", c.bin("kube-apiserver"), 90*time.Second, check, err)
}

func (c *Cluster) controllerManagerArgs() []string {
	pki := func(f string) string { return c.path("pki", f) }
	kubeconfig := c.path("controller-manager.kubeconfig")
	return []string{
		"--kubeconfig=" + kubeconfig, "--authentication-kubeconfig=" + kubeconfig, "--authorization-kubeconfig=" + kubeconfig,
		"--bind-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", c.ports.ControllerManager),
		"--service-account-private-key-file=" + pki("sa.key"), "--root-ca-file=" + c.ca.CertFile(),
		"--use-service-account-credentials",
		"--cluster-signing-cert-file=" + c.ca.CertFile(), "--cluster-signing-key-file=" + pki("ca.key"),
		"--allocate-node-cidrs", "--cluster-cidr=" + PodCIDR, "--node-cidr-mask-size=24",
		"--service-cluster-ip-range=" + ServiceCIDR, "--leader-elect=false",
	}
}

func (c *Cluster) schedulerArgs() []string {
	kubeconfig := c.path("scheduler.kubeconfig")
	return []string{
		"--kubeconfig=" + kubeconfig, "--authentication-kubeconfig=" + kubeconfig, "--authorization-kubeconfig=" + kubeconfig,
		"--bind-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", c.ports.Scheduler),
		"--leader-elect=false",
	}
}

func (c *Cluster) startControllers(ctx context.Context) error {
	cmCheck, err := c.httpCheck(fmt.Sprintf("https://127.0.0.1:%d/healthz", c.ports.ControllerManager), "")
	if err != nil {
		return &StepError{Step: "kube-controller-manager", Err: err}
	}
	schedCheck, err := c.httpCheck(fmt.Sprintf("https://127.0.0.1:%d/healthz", c.ports.Scheduler), "")
	if err != nil {
		return &StepError{Step: "kube-scheduler", Err: err}
	}
	cm, err := c.start("kube-controller-manager", c.bin("kube-controller-manager"), c.args("kube-controller-manager")...)
	if err != nil {
		return err
	}
	sched, err := c.start("kube-scheduler", c.bin("kube-scheduler"), c.args("kube-scheduler")...)
	if err != nil {
		return err
	}
	if err := cm.waitReady(ctx, 60*time.Second, cmCheck); err != nil {
		return err
	}
	return sched.waitReady(ctx, 60*time.Second, schedCheck)
}

func (c *Cluster) startRegistry(ctx context.Context) error {
	hash, err := bcrypt.GenerateFromPassword([]byte(c.Registry.Password), bcrypt.DefaultCost)
	if err != nil {
		return &StepError{Step: "registry", Err: err}
	}
	line := c.Registry.Username + ":" + string(hash) + "\n"
	if err := os.WriteFile(c.path("registry", "htpasswd"), []byte(line), 0o600); err != nil {
		return &StepError{Step: "registry", Err: err}
	}
	// 401 is the registry's answer to a request without credentials.
	check, err := c.httpCheck("https://"+c.Registry.Host+"/v2/", "registry", http.StatusUnauthorized)
	return c.startChecked(ctx, "registry", "docker-registry", 30*time.Second, check, err)
}

func (c *Cluster) startContainerd(ctx context.Context) error {
	p, err := c.start("containerd", "containerd", c.args("containerd")...)
	if err != nil {
		return err
	}
	if err := p.waitReady(ctx, 30*time.Second, func(ctx context.Context) error {
		return exec.CommandContext(ctx, "ctr", "--address", c.socket, "version").Run()
	}); err != nil {
		return err
	}
	if err := c.importPause(ctx); err != nil {
		return p.fail(fmt.Errorf("importing the pause image: %w", err))
	}
	return nil
}

func (c *Cluster) startKubelet(ctx context.Context) error {
	if err := makeCgroupRoot(cgroupRoot); err != nil {
		return &StepError{Step: "kubelet cgroups", Err: err}
	}
	p, err := c.start("kubelet", c.bin("kubelet"), c.args("kubelet")...)
	if err != nil {
		return err
	}
	cs, err := c.clientset()
	if err != nil {
		return p.fail(err)
	}
	return p.waitReady(ctx, 90*time.Second, func(ctx context.Context) error {
		n, err := cs.CoreV1().Nodes().Get(ctx, c.NodeName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, cond := range n.Status.Conditions {
			if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
				return nil
			}
		}
		return fmt.Errorf("node %s is not Ready yet", c.NodeName)
	})
}

func (c *Cluster) kubeletArgs() []string {
	return []string{
		"--config=" + c.path("kubelet", "config.yaml"), "--kubeconfig=" + c.path("kubelet.kubeconfig"),
		"--root-dir=" + c.path("kubelet"), "--cert-dir=" + c.path("kubelet", "pki"),
		"--node-ip=" + NodeIP, "--hostname-override=" + c.NodeName,
	}
}

func (c *Cluster) startKubeProxy(ctx context.Context) error {
	check, err := c.httpCheck(fmt.Sprintf("http://127.0.0.1:%d/healthz", c.ports.ProxyHealthz), "")
	return c.startChecked(ctx, "kube-proxy", c.bin("kube-proxy"), 60*time.Second, check, err)
}

func (c *Cluster) startDNS(ctx context.Context) error {
	check, err := c.httpCheck(fmt.Sprintf("http://127.0.0.1:%d/ready", c.ports.DNSReady), "")
	return c.startChecked(ctx, "coredns", c.bin("coredns"), 60*time.Second, check, err)
}

// Components are the names of the node's components, in the order Start
// starts them: the keys Options.ExtraArgs accepts.
var Components = []string{
	"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "registry",
	"containerd", "kubelet", "kube-proxy", "coredns",
}

// componentArgs builds each component's command-line arguments.
var componentArgs = map[string]func(c *Cluster) []string{
	"etcd":                    (*Cluster).etcdArgs,
	"kube-apiserver":          (*Cluster).apiServerArgs,
	"kube-controller-manager": (*Cluster).controllerManagerArgs,
	"kube-scheduler":          (*Cluster).schedulerArgs,
	"registry":                func(c *Cluster) []string { return []string{"serve", c.path("registry", "config.yml")} },
	"containerd":              func(c *Cluster) []string { return []string{"--config", c.path("containerd", "config.toml")} },
	"kubelet":                 (*Cluster).kubeletArgs,
	"kube-proxy":              func(c *Cluster) []string { return []string{"--config=" + c.path("kube-proxy.yaml")} },
	"coredns":                 func(c *Cluster) []string { return []string{"-conf", c.path("Corefile")} },
}

// args are the command-line arguments of the component name: the node's,
// then Options.ExtraArgs for it.
func (c *Cluster) args(name string) []string {
	return append(componentArgs[name](c), c.extraArgs[name]...)
}

// clientset is a client-go clientset with the admin kubeconfig.
func (c *Cluster) clientset() (*kubernetes.Clientset, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", c.path("admin.kubeconfig"))
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}
