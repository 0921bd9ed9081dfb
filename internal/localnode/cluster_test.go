package localnode

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/client-go/tools/clientcmd"
)

func TestOptionsWithDefaults(t *testing.T) {
	got := Options{}.withDefaults()
	if got.NodeName != "flotilla-node" || got.StartTimeout != 3*time.Minute {
		t.Errorf("defaults = %+v, want node flotilla-node and 3m", got)
	}
	set := Options{NodeName: "n1", StartTimeout: time.Second, Assets: "/a"}.withDefaults()
	if set.NodeName != "n1" || set.StartTimeout != time.Second || set.Assets != "/a" {
		t.Errorf("withDefaults overrode what was set: %+v", set)
	}
}

func TestOptionsValidateExtraArgs(t *testing.T) {
	tests := []struct {
		name      string
		extraArgs map[string][]string
		wantErr   []string
	}{
		{name: "none"},
		{name: "every-component", extraArgs: func() map[string][]string {
			m := map[string][]string{}
			for _, c := range Components {
				m[c] = []string{"--v=2"}
			}
			return m
		}()},
		{
			name:      "a-misspelt-component",
			extraArgs: map[string][]string{"kube-apiserver": {"--v=2"}, "kube-schedular": {"--v=4"}},
			wantErr:   []string{"kube-schedular", "kube-scheduler", "kubelet", "coredns"},
		},
		{
			name:      "several-unknown-sorted",
			extraArgs: map[string][]string{"proxy": nil, "apiserver": nil},
			wantErr:   []string{"apiserver, proxy"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Options{ExtraArgs: tt.extraArgs}.validate()
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("validate = %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("validate accepted ExtraArgs for a component the node does not run")
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		})
	}
}

// TestStartRefusesExtraArgsForAnUnknownComponent: before the fix the
// arguments of a misspelt component were dropped without a word and the
// node started without them.
func TestStartRefusesExtraArgsForAnUnknownComponent(t *testing.T) {
	tempStateDir(t)
	_, err := Start(context.Background(), Options{ExtraArgs: map[string][]string{"kube-apiservr": {"--v=9"}}})
	var step *StepError
	if !errors.As(err, &step) || step.Step != "options" {
		t.Fatalf("Start = %v, want a StepError for the options", err)
	}
	if !strings.Contains(err.Error(), "kube-apiservr") || !strings.Contains(err.Error(), "kube-apiserver") {
		t.Errorf("error = %v, want the unknown name and the valid ones", err)
	}
}

func TestComponentsHaveArguments(t *testing.T) {
	if len(Components) != len(componentArgs) {
		t.Errorf("%d Components, %d argument builders", len(Components), len(componentArgs))
	}
	for _, name := range Components {
		if componentArgs[name] == nil {
			t.Errorf("component %s has no argument builder", name)
		}
	}
}

// preparedCluster is a Cluster with certificates and configuration written
// into a temporary directory, as prepare writes them, without touching the
// host (no network, no record).
func preparedCluster(t *testing.T, extra map[string][]string) *Cluster {
	t.Helper()
	ports, err := pickPorts()
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{NodeName: "flotilla-node", dir: t.TempDir(), assets: "/opt/testenv", ports: ports, extraArgs: extra}
	c.socket = c.path("containerd", "containerd.sock")
	if err := c.certificates(); err != nil {
		t.Fatal(err)
	}
	if err := c.writeConfigs(); err != nil {
		t.Fatal(err)
	}
	return c
}

// flagValues maps each --flag=value of args to its value.
func flagValues(args []string) map[string]string {
	m := map[string]string{}
	for _, a := range args {
		if name, value, ok := strings.Cut(a, "="); ok && strings.HasPrefix(name, "--") {
			m[name] = value
		}
	}
	return m
}

// fileFlags name files or directories that must exist before the
// component starts (the node writes them in prepare).
var fileFlags = map[string]bool{
	"--tls-cert-file": true, "--tls-private-key-file": true, "--client-ca-file": true,
	"--service-account-key-file": true, "--service-account-signing-key-file": true,
	"--kubelet-client-certificate": true, "--kubelet-client-key": true, "--kubelet-certificate-authority": true,
	"--kubeconfig": true, "--authentication-kubeconfig": true, "--authorization-kubeconfig": true,
	"--service-account-private-key-file": true, "--root-ca-file": true,
	"--cluster-signing-cert-file": true, "--cluster-signing-key-file": true, "--config": true,
}

func TestEveryFileAComponentIsGivenIsWritten(t *testing.T) {
	c := preparedCluster(t, nil)
	for _, name := range Components {
		args := c.args(name)
		for flag, value := range flagValues(args) {
			if !fileFlags[flag] {
				continue
			}
			if _, err := os.Stat(value); err != nil {
				t.Errorf("%s %s=%s: %v", name, flag, value, err)
			}
			if !strings.HasPrefix(value, c.dir+"/") {
				t.Errorf("%s %s=%s is outside the node's directory", name, flag, value)
			}
		}
	}
	for _, name := range []string{"registry", "containerd", "coredns"} {
		args := c.args(name)
		if _, err := os.Stat(args[len(args)-1]); err != nil {
			t.Errorf("%s's configuration %s: %v", name, args[len(args)-1], err)
		}
	}
}

func TestComponentArguments(t *testing.T) {
	c := preparedCluster(t, nil)
	p := c.ports
	itoa := strconv.Itoa
	tests := []struct {
		component string
		want      map[string]string
	}{
		{"etcd", map[string]string{
			"--data-dir":           c.dir + "/etcd",
			"--listen-client-urls": "http://127.0.0.1:" + itoa(p.EtcdClient),
			"--listen-peer-urls":   "http://127.0.0.1:" + itoa(p.EtcdPeer),
			"--initial-cluster":    "default=http://127.0.0.1:" + itoa(p.EtcdPeer),
		}},
		{"kube-apiserver", map[string]string{
			"--etcd-servers":                    "http://127.0.0.1:" + itoa(p.EtcdClient),
			"--bind-address":                    NodeIP,
			"--advertise-address":               NodeIP,
			"--secure-port":                     itoa(p.APIServer),
			"--authorization-mode":              "Node,RBAC",
			"--service-cluster-ip-range":        ServiceCIDR,
			"--service-account-issuer":          "https://kubernetes.default.svc." + ClusterDomain,
			"--kubelet-preferred-address-types": "InternalIP",
			"--feature-gates":                   "WatchList=false",
		}},
		{"kube-controller-manager", map[string]string{
			"--kubeconfig":               c.dir + "/controller-manager.kubeconfig",
			"--secure-port":              itoa(p.ControllerManager),
			"--bind-address":             "127.0.0.1",
			"--cluster-cidr":             PodCIDR,
			"--node-cidr-mask-size":      "24",
			"--service-cluster-ip-range": ServiceCIDR,
			"--leader-elect":             "false",
		}},
		{"kube-scheduler", map[string]string{
			"--kubeconfig":   c.dir + "/scheduler.kubeconfig",
			"--secure-port":  itoa(p.Scheduler),
			"--bind-address": "127.0.0.1",
			"--leader-elect": "false",
		}},
		{"kubelet", map[string]string{
			"--config":            c.dir + "/kubelet/config.yaml",
			"--kubeconfig":        c.dir + "/kubelet.kubeconfig",
			"--root-dir":          c.dir + "/kubelet",
			"--cert-dir":          c.dir + "/kubelet/pki",
			"--node-ip":           NodeIP,
			"--hostname-override": "flotilla-node",
		}},
		{"kube-proxy", map[string]string{"--config": c.dir + "/kube-proxy.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.component, func(t *testing.T) {
			got := flagValues(c.args(tt.component))
			for flag, want := range tt.want {
				if got[flag] != want {
					t.Errorf("%s = %q, want %q", flag, got[flag], want)
				}
			}
		})
	}
	t.Run("bare flags", func(t *testing.T) {
		if !slices.Contains(c.args("kube-controller-manager"), "--allocate-node-cidrs") ||
			!slices.Contains(c.args("kube-controller-manager"), "--use-service-account-credentials") {
			t.Errorf("kube-controller-manager args %v lack --allocate-node-cidrs or --use-service-account-credentials", c.args("kube-controller-manager"))
		}
	})
	t.Run("positional", func(t *testing.T) {
		for name, want := range map[string][]string{
			"registry":   {"serve", c.dir + "/registry/config.yml"},
			"containerd": {"--config", c.dir + "/containerd/config.toml"},
			"coredns":    {"-conf", c.dir + "/Corefile"},
		} {
			if diff := cmp.Diff(want, c.args(name)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", name, diff)
			}
		}
	})
}

func TestExtraArgsComeAfterTheNodesOwn(t *testing.T) {
	c := preparedCluster(t, map[string][]string{"kube-scheduler": {"--v=4", "--feature-gates=X=true"}})
	args := c.args("kube-scheduler")
	if diff := cmp.Diff([]string{"--v=4", "--feature-gates=X=true"}, args[len(args)-2:]); diff != "" {
		t.Errorf("last args (-want +got):\n%s", diff)
	}
	if slices.Contains(c.args("kube-apiserver"), "--v=4") {
		t.Error("the scheduler's extra args reached kube-apiserver")
	}
	// Building the arguments twice does not repeat the extras.
	if len(c.args("kube-scheduler")) != len(args) {
		t.Error("args grew on a second call")
	}
}

func TestWriteConfigsWritesKubeconfigsForEveryIdentity(t *testing.T) {
	c := preparedCluster(t, nil)
	if c.Kubeconfig != c.dir+"/admin.kubeconfig" {
		t.Errorf("Kubeconfig = %s", c.Kubeconfig)
	}
	for name, user := range map[string]string{
		"admin": "admin", "controller-manager": "controller-manager", "scheduler": "scheduler",
		"kubelet": "kubelet", "kube-proxy": "kube-proxy",
	} {
		cfg, err := clientcmd.LoadFromFile(c.path(name + ".kubeconfig"))
		if err != nil {
			t.Errorf("%s.kubeconfig: %v", name, err)
			continue
		}
		if cfg.Clusters["flotilla-node"].Server != c.server() {
			t.Errorf("%s.kubeconfig reaches %s, want %s", name, cfg.Clusters["flotilla-node"].Server, c.server())
		}
		if cfg.AuthInfos[user] == nil {
			t.Errorf("%s.kubeconfig has no user %s", name, user)
		}
	}
}

func TestWriteConfigsMakesARegistryWithAFreshPassword(t *testing.T) {
	a, b := preparedCluster(t, nil), preparedCluster(t, nil)
	if a.Registry.Host != NodeIP+":"+strconv.Itoa(a.ports.Registry) {
		t.Errorf("registry host = %s, want the node IP and its port", a.Registry.Host)
	}
	if a.Registry.CAFile != a.ca.CertFile() || a.Registry.Username != "flotilla" {
		t.Errorf("registry = %+v", a.Registry)
	}
	if len(a.Registry.Password) != 24 || a.Registry.Password == b.Registry.Password {
		t.Errorf("passwords %q and %q, want 24 random hex digits each", a.Registry.Password, b.Registry.Password)
	}
	resolv, err := os.ReadFile(a.path("resolv.conf"))
	if err != nil || len(resolv) != 0 {
		t.Errorf("resolv.conf = %q, %v, want an empty file (no upstream DNS)", resolv, err)
	}
}

func TestServerIsTheNodeAddress(t *testing.T) {
	c := &Cluster{ports: ports{APIServer: 23456}}
	if got := c.server(); got != "https://"+NodeIP+":23456" {
		t.Errorf("server = %s", got)
	}
	c.assets = "/opt/assets"
	if got := c.bin("kubelet"); got != "/opt/assets/kubelet" {
		t.Errorf("bin = %s", got)
	}
}

func TestMakeDirs(t *testing.T) {
	t.Run("both directories", func(t *testing.T) {
		root := t.TempDir()
		c := &Cluster{}
		err := c.makeDirs(func(_, pattern string) (string, error) { return os.MkdirTemp(root, pattern) })
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range []string{c.dir, c.LogDir} {
			if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
				t.Errorf("%s: %v", d, err)
			}
		}
		if !strings.Contains(filepath.Base(c.LogDir), "flotilla-node-logs-") {
			t.Errorf("log dir %s, want the flotilla-node-logs- prefix the docs name", c.LogDir)
		}
	})
	t.Run("the node directory is removed when the log directory fails", func(t *testing.T) {
		root := t.TempDir()
		c := &Cluster{}
		calls := 0
		err := c.makeDirs(func(_, pattern string) (string, error) {
			if calls++; calls == 2 {
				return "", errors.New("no space left on device")
			}
			return os.MkdirTemp(root, pattern)
		})
		if err == nil || !strings.Contains(err.Error(), "no space left on device") {
			t.Fatalf("makeDirs = %v, want the log directory's error", err)
		}
		entries, _ := os.ReadDir(root)
		if len(entries) != 0 {
			t.Errorf("left behind: %v", entries)
		}
		if c.dir != "" || c.LogDir != "" {
			t.Errorf("dir %q, log dir %q kept", c.dir, c.LogDir)
		}
	})
	t.Run("the node directory failing", func(t *testing.T) {
		c := &Cluster{}
		err := c.makeDirs(func(string, string) (string, error) { return "", os.ErrPermission })
		if !errors.Is(err, os.ErrPermission) {
			t.Errorf("makeDirs = %v", err)
		}
	})
}

func TestStopOfANodeThatIsNotRunning(t *testing.T) {
	var none *Cluster
	if err := none.Stop(); err != nil {
		t.Errorf("Stop on nil: %v", err)
	}
	stopped := &Cluster{}
	if err := stopped.Stop(); err != nil {
		t.Errorf("Stop without the lock: %v", err)
	}
}

// TestStopStopsTheComponentsAndTearsDown runs Stop on a Cluster whose
// "components" are shell processes and whose record names only temporary
// directories, so no host state is touched.
func TestStopStopsTheComponentsAndTearsDown(t *testing.T) {
	tempStateDir(t)
	lockFile, err := lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	logDir, nodeDir := t.TempDir(), t.TempDir()
	c := &Cluster{dir: nodeDir, LogDir: logDir, lock: lockFile, state: &hostState{Dir: nodeDir, Processes: map[int]string{}}}
	if err := c.state.save(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"etcd", "kube-apiserver"} {
		p, err := c.start(name, "/bin/sh", "-c", "sleep 300")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.stop(time.Second) })
	}
	procs := c.Processes()
	if len(procs) != 2 || procs["etcd"] == 0 || procs["kube-apiserver"] == 0 {
		t.Fatalf("Processes = %v, want etcd and kube-apiserver", procs)
	}
	saved, err := loadState()
	if err != nil || len(saved.Processes) != 2 {
		t.Fatalf("record = %+v, %v, want both pids recorded before they run", saved, err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	for name, pid := range procs {
		if alive(pid) {
			t.Errorf("%s (%d) still runs", name, pid)
		}
	}
	for _, d := range []string{nodeDir, logDir, statePath()} {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s still there after Stop (%v)", d, err)
		}
	}
	if len(c.Processes()) != 0 {
		t.Errorf("Processes after Stop = %v", c.Processes())
	}
	if err := c.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestFailedStartKeepsTheLogs(t *testing.T) {
	tempStateDir(t)
	lockFile, err := lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	logDir := t.TempDir()
	c := &Cluster{LogDir: logDir, lock: lockFile}
	if err := c.stop(true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(logDir); err != nil {
		t.Errorf("the logs of a failed start are gone: %v", err)
	}
}

// tlsServer serves code over TLS with a certificate of ca, asking for
// (and verifying) a client certificate of ca when clientAuth is set.
func tlsServer(t *testing.T, ca *authority, code int, clientAuth bool) *httptest.Server {
	t.Helper()
	if err := ca.issue(certSpec{file: "server", commonName: "test", server: true, hosts: []string{"127.0.0.1"}}); err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := ca.pair("server")
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
			w.Header().Set("X-Client", r.TLS.PeerCertificates[0].Subject.CommonName)
		}
		w.WriteHeader(code)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	if clientAuth {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(ca.certPEM)
		srv.TLS.ClientCAs = pool
		srv.TLS.ClientAuth = tls.RequireAndVerifyClientCert
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func TestHTTPCheck(t *testing.T) {
	ca, err := newAuthority(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.issue(certSpec{file: "admin", commonName: "flotilla-node-admin", orgs: []string{"system:masters"}}); err != nil {
		t.Fatal(err)
	}
	c := &Cluster{ca: ca}
	ctx := context.Background()
	t.Run("a client certificate of the CA reaches a server that requires one", func(t *testing.T) {
		srv := tlsServer(t, ca, http.StatusOK, true)
		check, err := c.httpCheck(srv.URL+"/readyz", "admin")
		if err != nil {
			t.Fatal(err)
		}
		if err := check(ctx); err != nil {
			t.Errorf("check = %v", err)
		}
	})
	t.Run("without a client certificate the server refuses", func(t *testing.T) {
		srv := tlsServer(t, ca, http.StatusOK, true)
		check, err := c.httpCheck(srv.URL+"/readyz", "")
		if err != nil {
			t.Fatal(err)
		}
		if err := check(ctx); err == nil {
			t.Error("check passed without the client certificate the server requires")
		}
	})
	t.Run("a listed status other than 200 passes", func(t *testing.T) {
		srv := tlsServer(t, ca, http.StatusUnauthorized, false)
		check, err := c.httpCheck(srv.URL+"/v2/", "admin", http.StatusUnauthorized)
		if err != nil {
			t.Fatal(err)
		}
		if err := check(ctx); err != nil {
			t.Errorf("check = %v, want 401 accepted", err)
		}
	})
	t.Run("another status fails with it", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "etcd not ready", http.StatusServiceUnavailable)
		}))
		defer srv.Close()
		check, err := c.httpCheck(srv.URL+"/health", "")
		if err != nil {
			t.Fatal(err)
		}
		if err := check(ctx); err == nil || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), srv.URL+"/health") {
			t.Errorf("check = %v, want the URL and 503", err)
		}
	})
	t.Run("nothing listening fails", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		check, err := c.httpCheck(url, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := check(ctx); err == nil {
			t.Error("check passed with nothing listening")
		}
	})
	t.Run("a self-signed health port is accepted without a client certificate", func(t *testing.T) {
		srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		defer srv.Close()
		check, err := c.httpCheck(srv.URL+"/healthz", "")
		if err != nil {
			t.Fatal(err)
		}
		if err := check(ctx); err != nil {
			t.Errorf("check = %v", err)
		}
	})
}

// TestHTTPCheckFailsOnAClientCertificateThatDoesNotLoad: before the fix a
// missing or broken certificate was ignored, the check went out without
// one and the component was polled until its timeout with a TLS error that
// named no file.
func TestHTTPCheckFailsOnAClientCertificateThatDoesNotLoad(t *testing.T) {
	dir := t.TempDir()
	ca, err := newAuthority(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{ca: ca}
	t.Run("missing", func(t *testing.T) {
		_, err := c.httpCheck("https://127.0.0.1:1/readyz", "admin")
		if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "admin.crt")) {
			t.Errorf("httpCheck = %v, want an error naming admin.crt", err)
		}
	})
	t.Run("a key that is not a key", func(t *testing.T) {
		if err := ca.issue(certSpec{file: "registry", commonName: "r", server: true, hosts: []string{"127.0.0.1"}}); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "registry.key"), []byte("garbage"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := c.httpCheck("https://127.0.0.1:1/v2/", "registry", http.StatusUnauthorized)
		if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "registry.key")) {
			t.Errorf("httpCheck = %v, want an error naming registry.key", err)
		}
	})
}

func TestStartCheckedNamesTheStepOfABadCheck(t *testing.T) {
	c := &Cluster{}
	err := c.startChecked(context.Background(), "kube-apiserver", "/bin/true", time.Second, nil, errors.New("client certificate admin.crt"))
	var step *StepError
	if !errors.As(err, &step) || step.Step != "kube-apiserver" || !strings.Contains(err.Error(), "admin.crt") {
		t.Errorf("startChecked = %v, want a StepError for kube-apiserver naming the certificate", err)
	}
	if len(c.procs) != 0 {
		t.Error("a process was started although its check could not be built")
	}
}

func TestAssetsDir(t *testing.T) {
	t.Run("names a missing binary and what to run", func(t *testing.T) {
		dir := t.TempDir()
		for _, b := range binaries {
			if b == "kube-proxy" {
				continue
			}
			if err := os.WriteFile(filepath.Join(dir, b), nil, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		_, err := assetsDir(dir)
		if err == nil || !strings.Contains(err.Error(), "kube-proxy not found in "+dir) || !strings.Contains(err.Error(), "make testenv") {
			t.Errorf("assetsDir = %v, want kube-proxy named with make testenv", err)
		}
	})
	t.Run("an empty directory", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := assetsDir(dir); err == nil || !strings.Contains(err.Error(), "etcd not found") {
			t.Errorf("assetsDir = %v, want the first binary named", err)
		}
	})
	t.Run("the node binaries are the control plane's and the node's", func(t *testing.T) {
		for _, b := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "coredns"} {
			if !slices.Contains(binaries, b) {
				t.Errorf("binaries lack %s", b)
			}
		}
	})
}
