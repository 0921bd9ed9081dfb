package localnode

import (
	"encoding/json"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/google/go-cmp/cmp"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"
)

// testConfigData is what writeConfigs passes to the templates, with the
// node's directory in dir.
func testConfigData(dir string) configData {
	return configData{
		Dir: dir, NodeName: "flotilla-node", NodeIP: NodeIP, PodCIDR: PodCIDR, NodePodCIDR: NodePodCIDR,
		ClusterDomain: ClusterDomain, PodBridge: podBridge, CgroupRoot: cgroupRoot, PauseImage: pauseImage,
		CA: filepath.Join(dir, "pki", "ca.crt"), Socket: filepath.Join(dir, "containerd", "containerd.sock"),
		RegistryHost: NodeIP + ":25000", RegistryUser: "flotilla", RegistryPassword: "0123456789abcdef",
		Ports: ports{
			EtcdClient: 21001, EtcdPeer: 21002, APIServer: 21003, ControllerManager: 21004, Scheduler: 21005,
			Kubelet: 21006, KubeletHealthz: 21007, ProxyHealthz: 21008, ProxyMetrics: 21009, Stream: 21010,
			Registry: 25000, DNSHealth: 21012, DNSReady: 21013,
		},
	}
}

// render writes text with d under d.Dir and returns what it wrote.
func render(t *testing.T, name, text string, d configData) []byte {
	t.Helper()
	path := filepath.Join(d.Dir, name)
	if err := writeTemplate(path, text, d); err != nil {
		t.Fatalf("writeTemplate %s: %v", name, err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// lookup walks a parsed document by keys.
func lookup(t *testing.T, doc map[string]any, keys ...string) any {
	t.Helper()
	var cur any = doc
	for i, k := range keys {
		m, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("%s is a %T, not a table", strings.Join(keys[:i], "."), cur)
		}
		if cur, ok = m[k]; !ok {
			t.Fatalf("%s is missing", strings.Join(keys[:i+1], "."))
		}
	}
	return cur
}

func TestContainerdConfigParsesAsTOMLWithTheNodeSettings(t *testing.T) {
	d := testConfigData(t.TempDir())
	var doc map[string]any
	if _, err := toml.Decode(string(render(t, "containerd/config.toml", containerdConfig, d)), &doc); err != nil {
		t.Fatalf("containerd config is not TOML: %v", err)
	}
	cri := []string{"plugins", "io.containerd.grpc.v1.cri"}
	at := func(keys ...string) []string { return append(append([]string{}, cri...), keys...) }
	registry := at("registry", "configs", d.RegistryHost)
	tests := []struct {
		keys []string
		want any
	}{
		{[]string{"version"}, int64(2)},
		{[]string{"root"}, d.Dir + "/containerd/root"},
		{[]string{"state"}, d.Dir + "/containerd/state"},
		{[]string{"grpc", "address"}, d.Socket},
		{[]string{"ttrpc", "address"}, d.Socket + ".ttrpc"},
		{[]string{"plugins", "io.containerd.internal.v1.opt", "path"}, d.Dir + "/containerd/opt"},
		{at("sandbox_image"), pauseImage},
		// No CAP_SYS_RESOURCE on this machine type: without it every
		// sandbox fails in runc.
		{at("restrict_oom_score_adj"), true},
		{at("netns_mounts_under_state_dir"), true},
		{at("stream_server_address"), "127.0.0.1"},
		{at("stream_server_port"), "21010"},
		{at("containerd", "snapshotter"), "overlayfs"},
		{at("containerd", "default_runtime_name"), "runc"},
		{at("containerd", "runtimes", "runc", "runtime_type"), "io.containerd.runc.v2"},
		{at("containerd", "runtimes", "runc", "options", "SystemdCgroup"), false},
		{at("containerd", "runtimes", "runc", "options", "Root"), d.Dir + "/runc"},
		{at("cni", "bin_dir"), "/usr/lib/cni"},
		{at("cni", "conf_dir"), d.Dir + "/cni/net.d"},
		{append(registry, "tls", "ca_file"), d.CA},
		{append(registry, "auth", "username"), "flotilla"},
		{append(registry, "auth", "password"), "0123456789abcdef"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.keys, "."), func(t *testing.T) {
			if diff := cmp.Diff(tt.want, lookup(t, doc, tt.keys...)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// cniConflist is the part of a CNI network configuration list the node
// sets.
type cniConflist struct {
	CNIVersion string `json:"cniVersion"`
	Name       string `json:"name"`
	Plugins    []struct {
		Type         string          `json:"type"`
		Bridge       string          `json:"bridge"`
		IsGateway    bool            `json:"isGateway"`
		IPMasq       bool            `json:"ipMasq"`
		HairpinMode  bool            `json:"hairpinMode"`
		Capabilities map[string]bool `json:"capabilities"`
		IPAM         *struct {
			Type    string                `json:"type"`
			DataDir string                `json:"dataDir"`
			Ranges  [][]map[string]string `json:"ranges"`
			Routes  []map[string]string   `json:"routes"`
		} `json:"ipam"`
	} `json:"plugins"`
}

func TestCNIConfigIsABridgeWithHostLocalIPAMAndPortmap(t *testing.T) {
	d := testConfigData(t.TempDir())
	var c cniConflist
	dec := json.NewDecoder(strings.NewReader(string(render(t, "cni/net.d/10-flotilla.conflist", cniConfig, d))))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("CNI config: %v", err)
	}
	if c.CNIVersion != "0.4.0" || c.Name != "flotilla-node" || len(c.Plugins) != 2 {
		t.Fatalf("CNI config = version %q name %q with %d plugins, want 0.4.0 flotilla-node with 2", c.CNIVersion, c.Name, len(c.Plugins))
	}
	bridge, portmap := c.Plugins[0], c.Plugins[1]
	if bridge.Type != "bridge" || bridge.Bridge != podBridge || !bridge.IsGateway || !bridge.IPMasq || !bridge.HairpinMode {
		t.Errorf("bridge plugin = %+v, want bridge %s, gateway, ipMasq and hairpin", bridge, podBridge)
	}
	if bridge.IPAM == nil {
		t.Fatal("the bridge plugin has no ipam")
	}
	ipam := bridge.IPAM
	if ipam.Type != "host-local" || ipam.DataDir != d.Dir+"/cni/ipam" {
		t.Errorf("ipam = %s in %s, want host-local in the node's directory (not /var/lib/cni)", ipam.Type, ipam.DataDir)
	}
	if diff := cmp.Diff([][]map[string]string{{{"subnet": NodePodCIDR}}}, ipam.Ranges); diff != "" {
		t.Errorf("ipam ranges (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]map[string]string{{"dst": "0.0.0.0/0"}}, ipam.Routes); diff != "" {
		t.Errorf("ipam routes (-want +got):\n%s", diff)
	}
	if portmap.Type != "portmap" || !portmap.Capabilities["portMappings"] {
		t.Errorf("second plugin = %+v, want portmap with the portMappings capability", portmap)
	}
}

// kubeletConfiguration holds the KubeletConfiguration fields the node
// sets, as kubelet.config.k8s.io/v1beta1 spells them; a strict parse into
// it fails on any field the template sets that is not listed here.
type kubeletConfiguration struct {
	APIVersion               string `json:"apiVersion"`
	Kind                     string `json:"kind"`
	FailCgroupV1             *bool  `json:"failCgroupV1"`
	CgroupDriver             string `json:"cgroupDriver"`
	CgroupRoot               string `json:"cgroupRoot"`
	FailSwapOn               *bool  `json:"failSwapOn"`
	ContainerRuntimeEndpoint string `json:"containerRuntimeEndpoint"`
	Address                  string `json:"address"`
	Port                     int    `json:"port"`
	ReadOnlyPort             *int   `json:"readOnlyPort"`
	HealthzBindAddress       string `json:"healthzBindAddress"`
	HealthzPort              int    `json:"healthzPort"`
	TLSCertFile              string `json:"tlsCertFile"`
	TLSPrivateKeyFile        string `json:"tlsPrivateKeyFile"`
	Authentication           struct {
		Anonymous struct {
			Enabled *bool `json:"enabled"`
		} `json:"anonymous"`
		Webhook struct {
			Enabled *bool `json:"enabled"`
		} `json:"webhook"`
		X509 struct {
			ClientCAFile string `json:"clientCAFile"`
		} `json:"x509"`
	} `json:"authentication"`
	Authorization struct {
		Mode string `json:"mode"`
	} `json:"authorization"`
	ClusterDNS                  []string          `json:"clusterDNS"`
	ClusterDomain               string            `json:"clusterDomain"`
	ResolvConf                  string            `json:"resolvConf"`
	EvictionHard                map[string]string `json:"evictionHard"`
	ImageGCHighThresholdPercent int               `json:"imageGCHighThresholdPercent"`
	ImageGCLowThresholdPercent  int               `json:"imageGCLowThresholdPercent"`
	PodLogsDir                  string            `json:"podLogsDir"`
	SerializeImagePulls         *bool             `json:"serializeImagePulls"`
	NodeStatusReportFrequency   string            `json:"nodeStatusReportFrequency"`
}

func TestKubeletConfigHasWhatThisMachineTypeNeeds(t *testing.T) {
	d := testConfigData(t.TempDir())
	var k kubeletConfiguration
	if err := yaml.UnmarshalStrict(render(t, "kubelet/config.yaml", kubeletConfig, d), &k); err != nil {
		t.Fatalf("kubelet config: %v", err)
	}
	isFalse := func(b *bool) bool { return b != nil && !*b }
	isTrue := func(b *bool) bool { return b != nil && *b }
	checks := []struct {
		what string
		ok   bool
	}{
		{"apiVersion kubelet.config.k8s.io/v1beta1", k.APIVersion == "kubelet.config.k8s.io/v1beta1" && k.Kind == "KubeletConfiguration"},
		{"failCgroupV1 false (cgroup v1 hosts)", isFalse(k.FailCgroupV1)},
		{"cgroupDriver cgroupfs", k.CgroupDriver == "cgroupfs"},
		{"cgroupRoot " + cgroupRoot, k.CgroupRoot == cgroupRoot},
		{"failSwapOn false", isFalse(k.FailSwapOn)},
		{"the node's containerd socket", k.ContainerRuntimeEndpoint == "unix://"+d.Socket},
		{"address the node IP", k.Address == NodeIP},
		{"port the picked one", k.Port == 21006},
		{"readOnlyPort 0", k.ReadOnlyPort != nil && *k.ReadOnlyPort == 0},
		{"healthz on loopback at the picked port", k.HealthzBindAddress == "127.0.0.1" && k.HealthzPort == 21007},
		{"serving certificate from the node's pki", k.TLSCertFile == d.Dir+"/pki/kubelet-serving.crt" && k.TLSPrivateKeyFile == d.Dir+"/pki/kubelet-serving.key"},
		{"no anonymous access", isFalse(k.Authentication.Anonymous.Enabled)},
		{"webhook authentication", isTrue(k.Authentication.Webhook.Enabled)},
		{"client CA the cluster's", k.Authentication.X509.ClientCAFile == d.CA},
		{"webhook authorization", k.Authorization.Mode == "Webhook"},
		{"cluster DNS on the node IP", cmp.Equal(k.ClusterDNS, []string{NodeIP})},
		{"cluster domain", k.ClusterDomain == ClusterDomain},
		{"its own resolv.conf", k.ResolvConf == d.Dir+"/resolv.conf"},
		{"eviction off", k.EvictionHard != nil && len(k.EvictionHard) == 0},
		{"image GC thresholds high", k.ImageGCHighThresholdPercent == 100 && k.ImageGCLowThresholdPercent == 99},
		{"pod logs in the node's directory", k.PodLogsDir == d.Dir+"/pod-logs"},
		{"parallel image pulls", isFalse(k.SerializeImagePulls)},
		{"status every 10s", k.NodeStatusReportFrequency == "10s"},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("kubelet config: want %s; got %+v", c.what, k)
		}
	}
}

// kubeProxyConfiguration holds the KubeProxyConfiguration fields the node
// sets, as kubeproxy.config.k8s.io/v1alpha1 spells them.
type kubeProxyConfiguration struct {
	APIVersion       string `json:"apiVersion"`
	Kind             string `json:"kind"`
	ClientConnection struct {
		Kubeconfig string `json:"kubeconfig"`
	} `json:"clientConnection"`
	Mode               string   `json:"mode"`
	ClusterCIDR        string   `json:"clusterCIDR"`
	HostnameOverride   string   `json:"hostnameOverride"`
	HealthzBindAddress string   `json:"healthzBindAddress"`
	MetricsBindAddress string   `json:"metricsBindAddress"`
	NodePortAddresses  []string `json:"nodePortAddresses"`
	Conntrack          struct {
		MaxPerCore            *int   `json:"maxPerCore"`
		Min                   *int   `json:"min"`
		TCPEstablishedTimeout string `json:"tcpEstablishedTimeout"`
		TCPCloseWaitTimeout   string `json:"tcpCloseWaitTimeout"`
	} `json:"conntrack"`
}

func TestKubeProxyConfig(t *testing.T) {
	d := testConfigData(t.TempDir())
	var k kubeProxyConfiguration
	if err := yaml.UnmarshalStrict(render(t, "kube-proxy.yaml", kubeProxyConfig, d), &k); err != nil {
		t.Fatalf("kube-proxy config: %v", err)
	}
	zero := func(p *int) bool { return p != nil && *p == 0 }
	checks := []struct {
		what string
		ok   bool
	}{
		{"apiVersion kubeproxy.config.k8s.io/v1alpha1", k.APIVersion == "kubeproxy.config.k8s.io/v1alpha1" && k.Kind == "KubeProxyConfiguration"},
		{"its kubeconfig", k.ClientConnection.Kubeconfig == d.Dir+"/kube-proxy.kubeconfig"},
		{"iptables mode", k.Mode == "iptables"},
		{"the cluster's Pod CIDR", k.ClusterCIDR == PodCIDR},
		{"the node's name", k.HostnameOverride == "flotilla-node"},
		{"healthz on loopback", k.HealthzBindAddress == "127.0.0.1:21008"},
		{"metrics on loopback", k.MetricsBindAddress == "127.0.0.1:21009"},
		// NodePorts would also answer on the machine's real interface.
		{"NodePorts on the node IP only", cmp.Equal(k.NodePortAddresses, []string{NodeIP + "/32"})},
		{"the kernel's conntrack settings left alone", zero(k.Conntrack.MaxPerCore) && zero(k.Conntrack.Min) &&
			k.Conntrack.TCPEstablishedTimeout == "0s" && k.Conntrack.TCPCloseWaitTimeout == "0s"},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("kube-proxy config: want %s; got %+v", c.what, k)
		}
	}
}

// TestKubeProxyConfigKeepsANodeNameThatReadsAsAnotherType: node names are
// DNS names, and "1234", "true" or "1e3" are valid ones; unquoted in YAML
// they became a number or a boolean and kube-proxy's strict decoding of
// hostnameOverride (a string) refused its configuration.
func TestKubeProxyConfigKeepsANodeNameThatReadsAsAnotherType(t *testing.T) {
	for _, name := range []string{"1234", "true", "null", "1e3", "0x1f", "flotilla-node"} {
		t.Run(name, func(t *testing.T) {
			d := testConfigData(t.TempDir())
			d.NodeName = name
			var k kubeProxyConfiguration
			if err := yaml.UnmarshalStrict(render(t, "kube-proxy.yaml", kubeProxyConfig, d), &k); err != nil {
				t.Fatalf("kube-proxy config for node %q: %v", name, err)
			}
			if k.HostnameOverride != name {
				t.Errorf("hostnameOverride = %q, want %q", k.HostnameOverride, name)
			}
		})
	}
}

// registryConfiguration is the part of docker-registry's configuration the
// node sets.
type registryConfiguration struct {
	Version string `json:"version"`
	Log     struct {
		Level     string `json:"level"`
		AccessLog struct {
			Disabled bool `json:"disabled"`
		} `json:"accesslog"`
	} `json:"log"`
	Storage struct {
		Filesystem struct {
			RootDirectory string `json:"rootdirectory"`
		} `json:"filesystem"`
		Delete struct {
			Enabled bool `json:"enabled"`
		} `json:"delete"`
	} `json:"storage"`
	HTTP struct {
		Addr   string `json:"addr"`
		Secret string `json:"secret"`
		TLS    struct {
			Certificate string `json:"certificate"`
			Key         string `json:"key"`
		} `json:"tls"`
	} `json:"http"`
	Auth struct {
		Htpasswd struct {
			Realm string `json:"realm"`
			Path  string `json:"path"`
		} `json:"htpasswd"`
	} `json:"auth"`
}

func TestRegistryConfigServesTLSWithBasicAuthOnTheNodeAddress(t *testing.T) {
	d := testConfigData(t.TempDir())
	var r registryConfiguration
	if err := yaml.UnmarshalStrict(render(t, "registry/config.yml", registryConfig, d), &r); err != nil {
		t.Fatalf("registry config: %v", err)
	}
	want := registryConfiguration{Version: "0.1"}
	want.Log.Level = "warn"
	want.Log.AccessLog.Disabled = true
	want.Storage.Filesystem.RootDirectory = d.Dir + "/registry/data"
	want.Storage.Delete.Enabled = true
	want.HTTP.Addr = NodeIP + ":25000"
	want.HTTP.Secret = "flotilla-test-ground"
	want.HTTP.TLS.Certificate = d.Dir + "/pki/registry.crt"
	want.HTTP.TLS.Key = d.Dir + "/pki/registry.key"
	want.Auth.Htpasswd.Realm = "flotilla-test-ground"
	want.Auth.Htpasswd.Path = d.Dir + "/registry/htpasswd"
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("registry config (-want +got):\n%s", diff)
	}
}

func TestCorefileServesTheClusterDomainOnTheNodeIP(t *testing.T) {
	d := testConfigData(t.TempDir())
	got := string(render(t, "Corefile", corefile, d))
	for _, line := range []string{
		"bind " + NodeIP,
		"health 127.0.0.1:21012",
		"ready 127.0.0.1:21013",
		"kubernetes " + ClusterDomain + " in-addr.arpa ip6.arpa {",
		"kubeconfig " + d.Dir + "/admin.kubeconfig",
		"pods insecure",
		"fallthrough in-addr.arpa ip6.arpa",
		"cache 5",
		"errors",
	} {
		if !containsLine(got, line) {
			t.Errorf("Corefile has no line %q:\n%s", line, got)
		}
	}
	if strings.Count(got, "{") != strings.Count(got, "}") {
		t.Errorf("Corefile braces do not balance:\n%s", got)
	}
}

// containsLine reports whether text has a line that is want once trimmed.
func containsLine(text, want string) bool {
	for line := range strings.Lines(text) {
		if strings.TrimSpace(line) == want {
			return true
		}
	}
	return false
}

func TestWriteTemplate(t *testing.T) {
	t.Run("creates the parent directories, readable by root alone", func(t *testing.T) {
		d := testConfigData(t.TempDir())
		path := filepath.Join(d.Dir, "a", "b", "c.txt")
		if err := writeTemplate(path, "{{.NodeName}} on {{.NodeIP}}", d); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil || string(data) != "flotilla-node on "+NodeIP {
			t.Fatalf("wrote %q (%v), want the rendered text", data, err)
		}
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("mode = %v (%v), want 0600: the files hold the registry password", fi.Mode().Perm(), err)
		}
	})
	t.Run("a field the data lacks fails naming the file", func(t *testing.T) {
		d := testConfigData(t.TempDir())
		path := filepath.Join(d.Dir, "bad.yaml")
		err := writeTemplate(path, "x: {{.NoSuchField}}", d)
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Fatalf("error = %v, want one naming %s", err, path)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("%s was written although rendering failed", path)
		}
	})
	t.Run("a template that does not parse fails", func(t *testing.T) {
		d := testConfigData(t.TempDir())
		if err := writeTemplate(filepath.Join(d.Dir, "bad"), "{{.NodeName", d); err == nil {
			t.Fatal("writeTemplate accepted an unterminated action")
		}
	})
	t.Run("quote makes a YAML and JSON string", func(t *testing.T) {
		d := testConfigData(t.TempDir())
		d.NodeName = `we"ird`
		got := render(t, "q.json", `{"name": {{quote .NodeName}}}`, d)
		var v map[string]string
		if err := json.Unmarshal(got, &v); err != nil || v["name"] != `we"ird` {
			t.Errorf("rendered %s (%v), want the name back", got, err)
		}
	})
}

func TestWriteKubeconfig(t *testing.T) {
	dir := t.TempDir()
	ca, err := newAuthority(dir)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "kubelet.kubeconfig")
	if err := writeKubeconfig(path, "https://10.213.0.1:21003", ca, "kubelet"); err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := cfg.Contexts[cfg.CurrentContext]
	if ctx == nil || ctx.Cluster != "flotilla-node" || ctx.AuthInfo != "kubelet" {
		t.Fatalf("current context = %+v, want cluster flotilla-node as kubelet", ctx)
	}
	cluster := cfg.Clusters["flotilla-node"]
	if cluster.Server != "https://10.213.0.1:21003" || cluster.CertificateAuthority != ca.CertFile() {
		t.Errorf("cluster = %s with CA %s, want the API server with %s", cluster.Server, cluster.CertificateAuthority, ca.CertFile())
	}
	user := cfg.AuthInfos["kubelet"]
	if user.ClientCertificate != filepath.Join(dir, "kubelet.crt") || user.ClientKey != filepath.Join(dir, "kubelet.key") {
		t.Errorf("user = %s / %s, want the kubelet's pair in %s", user.ClientCertificate, user.ClientKey, dir)
	}
	if user.Token != "" || user.Exec != nil {
		t.Errorf("user has a token or exec plugin: %+v", user)
	}
}

// TestCorefilePluginsAreBuiltIntoCoreDNS: the test ground's CoreDNS is
// built with only the plugins coredns/main.go imports; a directive of the
// Corefile that is not among them stops CoreDNS at start.
func TestCorefilePluginsAreBuiltIntoCoreDNS(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "coredns/main.go", nil, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	built := map[string]bool{}
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		if name, ok := strings.CutPrefix(path, "github.com/coredns/coredns/plugin/"); ok {
			built[name] = true
		}
	}
	d := testConfigData(t.TempDir())
	for line := range strings.Lines(string(render(t, "Corefile", corefile, d))) {
		fields := strings.Fields(line)
		if len(fields) == 0 || fields[0] == "}" || strings.HasPrefix(fields[0], ".:") {
			continue
		}
		// Lines inside the kubernetes block are its options.
		if slices.Contains([]string{"kubeconfig", "pods", "fallthrough"}, fields[0]) {
			continue
		}
		if !built[fields[0]] {
			t.Errorf("the Corefile uses plugin %s, which coredns/main.go does not import", fields[0])
		}
	}
}
