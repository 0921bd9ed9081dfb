package localnode

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/testground"
)

// binaries a node needs from the test ground's directory (hack/testenv.sh).
var binaries = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "coredns"}

// Options shape a Cluster.
type Options struct {
	// NodeName is the node's name (default flotilla-node).
	NodeName string
	// StartTimeout bounds the whole start (default 3 minutes).
	StartTimeout time.Duration
	// Assets is the directory of the test ground's binaries; empty means
	// $KUBEBUILDER_ASSETS, else what hack/testenv.sh prints.
	Assets string
	// ExtraArgs adds command-line arguments to a component, by its name
	// (one of Components: kube-apiserver, kubelet, ...), for example
	// feature gates. Start refuses a name that is not a component.
	ExtraArgs map[string][]string
}

func (o Options) withDefaults() Options {
	if o.NodeName == "" {
		o.NodeName = "flotilla-node"
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = 3 * time.Minute
	}
	return o
}

// validate refuses ExtraArgs for a component the node does not run: a
// misspelt name would otherwise drop the arguments silently.
func (o Options) validate() error {
	var unknown []string
	for name := range o.ExtraArgs {
		if !slices.Contains(Components, name) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	return fmt.Errorf("ExtraArgs names no component of the node: %s (the components are %s)",
		strings.Join(unknown, ", "), strings.Join(Components, ", "))
}

// Registry is the test ground's OCI registry: Debian's docker-registry on
// the node's address, with TLS from the test ground's CA and basic auth.
// The node's containerd trusts that CA and holds the credentials.
type Registry struct {
	// Host is host:port, the prefix of image references.
	Host string
	// CAFile is the PEM file of the CA that signed its certificate.
	CAFile string
	// Username and Password are its basic auth credentials.
	Username, Password string
}

// Cluster is a running single-node Kubernetes cluster: etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler, containerd with
// runc and the CNI bridge, kubelet, kube-proxy (iptables), CoreDNS and an
// OCI registry, all real, on this machine. Only one runs per machine at a
// time: Start waits for the machine-wide lock.
type Cluster struct {
	// NodeName is the name of the Node.
	NodeName string
	// Config reaches the API server as cluster admin.
	Config *rest.Config
	// Client is a controller-runtime client with Flotilla's scheme.
	Client client.Client
	// Kubeconfig is the path of the admin kubeconfig.
	Kubeconfig string
	// Registry is the cluster's image registry.
	Registry Registry
	// LogDir holds every component's log; it is kept when Start fails.
	LogDir string
	// LockWait is how long Start waited for another node on this machine
	// to stop, so measurements of the start can leave it out.
	LockWait time.Duration

	dir    string
	assets string
	socket string
	ca     *authority
	ports  ports
	state  *hostState
	procs  []*process
	lock   *os.File
	// extraArgs are Options.ExtraArgs.
	extraArgs map[string][]string
}

// Start starts a cluster with one Ready node. It waits for any other node
// on this machine to stop, cleans up after one that crashed, and on error
// stops what it started and leaves the host as it was (the error names the
// step and its log file).
func Start(ctx context.Context, o Options) (_ *Cluster, err error) {
	o = o.withDefaults()
	if err := o.validate(); err != nil {
		return nil, &StepError{Step: "options", Err: err}
	}
	if err := Preflight(); err != nil {
		return nil, &StepError{Step: "preflight", Err: err}
	}
	assets, err := assetsDir(o.Assets)
	if err != nil {
		return nil, &StepError{Step: "preflight", Err: err}
	}
	c := &Cluster{NodeName: o.NodeName, assets: assets, extraArgs: o.ExtraArgs}
	waitFrom := time.Now()
	if c.lock, err = lock(ctx); err != nil {
		return nil, &StepError{Step: "lock", Err: err}
	}
	c.LockWait = time.Since(waitFrom)
	if err := cleanupLocked(); err != nil {
		c.lock.Close()
		return nil, &StepError{Step: "cleaning up after an earlier node", Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, o.StartTimeout)
	defer cancel()
	defer func() {
		if err != nil {
			err = errors.Join(err, c.stop(true))
			c = nil
		}
	}()
	if err := c.prepare(); err != nil {
		return nil, err
	}
	for _, step := range []func(context.Context) error{
		c.startEtcd, c.startAPIServer, c.startControllers, c.startRegistry,
		c.startContainerd, c.startKubelet, c.startKubeProxy, c.startDNS, c.connect,
	} {
		if err := step(ctx); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Preflight says why this machine cannot run a node, or nil: it needs root
// (kubelet, containerd, iptables) and cgroup v1, which the test ground's
// kubelet and cgroup bookkeeping are written for.
func Preflight() error {
	if os.Geteuid() != 0 {
		return errors.New("a real node needs root (kubelet, containerd, iptables)")
	}
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		return errors.New("this machine uses cgroup v2 only; the test ground's node supports cgroup v1 (hybrid) hosts")
	}
	return nil
}

func assetsDir(dir string) (string, error) {
	if dir == "" {
		var err error
		if dir, err = testground.AssetsDir(); err != nil {
			return "", err
		}
	}
	for _, b := range binaries {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			return "", fmt.Errorf("%s not found in %s: run `make testenv`", b, dir)
		}
	}
	for _, b := range []string{"containerd", "runc", "ctr", "iptables", "conntrack", "docker-registry", "ip"} {
		if _, err := exec.LookPath(b); err != nil {
			return "", fmt.Errorf("%s not found: run `make testenv` (it installs the node's Debian packages)", b)
		}
	}
	return dir, nil
}

// prepare makes the directories, records the host, creates the node's
// address and writes certificates and configuration.
func (c *Cluster) prepare() (err error) {
	if err := c.makeDirs(os.MkdirTemp); err != nil {
		return &StepError{Step: "prepare", Err: err}
	}
	c.socket = filepath.Join(c.dir, "containerd", "containerd.sock")
	c.state = &hostState{Dir: c.dir, CgroupRoot: cgroupRoot, Processes: map[int]string{}}
	if err := c.state.record(); err != nil {
		return &StepError{Step: "recording the host's state", Err: err}
	}
	if c.ports, err = pickPorts(); err != nil {
		return err
	}
	if err := c.network(); err != nil {
		return &StepError{Step: "node network", Err: err}
	}
	if err := c.certificates(); err != nil {
		return &StepError{Step: "certificates", Err: err}
	}
	return c.writeConfigs()
}

// makeDirs creates the node's directory and its log directory with
// mkdirTemp (os.MkdirTemp). Nothing records the node's directory yet, so
// when the log directory fails it is removed here.
func (c *Cluster) makeDirs(mkdirTemp func(dir, pattern string) (string, error)) (err error) {
	if c.dir, err = mkdirTemp("", "flotilla-node-"); err != nil {
		return err
	}
	if c.LogDir, err = mkdirTemp("", "flotilla-node-logs-"); err != nil {
		err = errors.Join(fmt.Errorf("log directory: %w", err), os.RemoveAll(c.dir))
		c.dir, c.LogDir = "", ""
		return err
	}
	return nil
}

// network holds NodeIP on a bridge with no ports (this machine type has no
// dummy links) and turns on forwarding.
func (c *Cluster) network() error {
	c.state.Links = []string{nodeLink, podBridge}
	if err := c.state.save(); err != nil {
		return err
	}
	for _, args := range [][]string{
		{"link", "add", nodeLink, "type", "bridge"},
		{"addr", "add", NodeIP + "/32", "dev", nodeLink},
		{"link", "set", nodeLink, "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("ip %v: %v: %s", args, err, out)
		}
	}
	return os.WriteFile(sysctlPath("net.ipv4.ip_forward"), []byte("1"), 0o644)
}

func (c *Cluster) certificates() (err error) {
	pki := filepath.Join(c.dir, "pki")
	if err := os.MkdirAll(pki, 0o700); err != nil {
		return err
	}
	if c.ca, err = newAuthority(pki); err != nil {
		return err
	}
	specs := []certSpec{
		{file: "apiserver", commonName: "kube-apiserver", server: true, hosts: []string{
			NodeIP, "127.0.0.1", KubernetesServiceIP, "localhost", "kubernetes", "kubernetes.default",
			"kubernetes.default.svc", "kubernetes.default.svc." + ClusterDomain}},
		{file: "admin", commonName: "flotilla-node-admin", orgs: []string{"system:masters"}},
		{file: "apiserver-kubelet-client", commonName: "kube-apiserver-kubelet-client", orgs: []string{"system:masters"}},
		{file: "kubelet", commonName: "system:node:" + c.NodeName, orgs: []string{"system:nodes"}},
		{file: "kubelet-serving", commonName: c.NodeName, server: true, hosts: []string{NodeIP, c.NodeName}},
		{file: "controller-manager", commonName: "system:kube-controller-manager"},
		{file: "scheduler", commonName: "system:kube-scheduler"},
		{file: "kube-proxy", commonName: "system:kube-proxy"},
		{file: "registry", commonName: "flotilla-registry", server: true, hosts: []string{NodeIP, "127.0.0.1", "localhost"}},
	}
	for _, s := range specs {
		if err := c.ca.issue(s); err != nil {
			return err
		}
	}
	_, _, err = serviceAccountKey(pki)
	return err
}

func (c *Cluster) server() string { return fmt.Sprintf("https://%s:%d", NodeIP, c.ports.APIServer) }

func (c *Cluster) path(parts ...string) string {
	return filepath.Join(append([]string{c.dir}, parts...)...)
}

func (c *Cluster) writeConfigs() error {
	password := make([]byte, 12)
	if _, err := rand.Read(password); err != nil {
		return err
	}
	c.Registry = Registry{
		Host: fmt.Sprintf("%s:%d", NodeIP, c.ports.Registry), CAFile: c.ca.CertFile(),
		Username: "flotilla", Password: hex.EncodeToString(password),
	}
	c.Kubeconfig = c.path("admin.kubeconfig")
	for name, cert := range map[string]string{
		"admin": "admin", "controller-manager": "controller-manager", "scheduler": "scheduler",
		"kubelet": "kubelet", "kube-proxy": "kube-proxy",
	} {
		if err := writeKubeconfig(c.path(name+".kubeconfig"), c.server(), c.ca, cert); err != nil {
			return &StepError{Step: "kubeconfigs", Err: err}
		}
	}
	d := configData{
		Dir: c.dir, NodeName: c.NodeName, NodeIP: NodeIP, PodCIDR: PodCIDR, NodePodCIDR: NodePodCIDR,
		ClusterDomain: ClusterDomain, PodBridge: podBridge, CgroupRoot: cgroupRoot, PauseImage: pauseImage,
		CA: c.ca.CertFile(), Socket: c.socket, RegistryHost: c.Registry.Host,
		RegistryUser: c.Registry.Username, RegistryPassword: c.Registry.Password, Ports: c.ports,
	}
	for file, text := range map[string]string{
		"containerd/config.toml": containerdConfig, "cni/net.d/10-flotilla.conflist": cniConfig,
		"kubelet/config.yaml": kubeletConfig, "kube-proxy.yaml": kubeProxyConfig,
		"Corefile": corefile, "registry/config.yml": registryConfig,
	} {
		if err := writeTemplate(c.path(file), text, d); err != nil {
			return &StepError{Step: "configuration", Err: err}
		}
	}
	return os.WriteFile(c.path("resolv.conf"), nil, 0o644)
}

// start starts a component with args (ExtraArgs included) and records its pid for Cleanup.
func (c *Cluster) start(name, bin string, args ...string) (*process, error) {
	p, err := startProcess(c.LogDir, name, bin, args...)
	if err != nil {
		return nil, err
	}
	c.procs = append(c.procs, p)
	if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", p.cmd.Process.Pid)); err == nil {
		c.state.Processes[p.cmd.Process.Pid] = exe
	}
	return p, c.state.save()
}

func (c *Cluster) bin(name string) string { return filepath.Join(c.assets, name) }

// connect builds the admin client.
func (c *Cluster) connect(context.Context) (err error) {
	if c.Config, err = clientcmd.BuildConfigFromFlags("", c.Kubeconfig); err != nil {
		return &StepError{Step: "admin client", Err: err}
	}
	c.Config.QPS, c.Config.Burst = 200, 400
	if c.Client, err = client.New(c.Config, client.Options{Scheme: v1alpha1.NewScheme()}); err != nil {
		return &StepError{Step: "admin client", Err: err}
	}
	return nil
}

// Stop stops every component, kills what runs in the node's Pods, and
// puts the host back as it was: iptables, links, sysctls, mounts, cgroups
// and directories. It is safe to call more than once.
func (c *Cluster) Stop() error {
	if c == nil {
		return nil
	}
	return c.stop(false)
}

func (c *Cluster) stop(keepLogs bool) error {
	if c.lock == nil {
		return nil
	}
	for i := len(c.procs) - 1; i >= 0; i-- {
		c.procs[i].stop(5 * time.Second)
	}
	c.procs = nil
	var err error
	if c.state != nil {
		err = c.state.undo()
	}
	if !keepLogs && c.LogDir != "" {
		os.RemoveAll(c.LogDir)
	}
	c.lock.Close()
	c.lock = nil
	return err
}

// Processes maps each running component (etcd, kube-apiserver, kubelet,
// containerd...) to its process id, for measurements.
func (c *Cluster) Processes() map[string]int {
	m := map[string]int{}
	for _, p := range c.procs {
		if !p.exited() {
			m[p.name] = p.cmd.Process.Pid
		}
	}
	return m
}
