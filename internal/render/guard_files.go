package render

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/flotilla-io/flotilla/internal/redact"
)

// functionMarkers are the annotations that make kustomize run a KRM function
// (a container or an executable) for a generator or transformer.
var functionMarkers = []string{
	"config.kubernetes.io/function",
	"config.k8s.io/function",
	"config.kubernetes.io/container",
}

// resourceFile parses a file that kustomize will read as objects. plugins
// means the objects are generator, transformer or validator configurations.
func (g *guard) resourceFile(p string, plugins bool) error {
	data, err := g.t.readFile(p)
	if err != nil {
		return &Error{Path: p, Err: err}
	}
	if err := checkAliases(p, data); err != nil {
		return err
	}
	if data, err = g.decryptInPlace(p, data); err != nil {
		return err
	}
	nodes, err := parseObjects(p, data)
	if err != nil {
		return err
	}
	if err := g.countObjects(p, len(nodes)); err != nil {
		return err
	}
	for i, n := range nodes {
		g.collectSecret(n)
		if !plugins {
			continue
		}
		if err := checkPluginConfig(n); err != nil {
			if len(nodes) > 1 {
				err = fmt.Errorf("document %d: %w", i+1, err)
			}
			return &Error{Path: p, Err: err}
		}
	}
	return nil
}

// parseObjects parses data as kustomize does and checks what kustomize
// would otherwise report with the object's full content in the message.
func parseObjects(p string, data []byte) ([]*yaml.RNode, error) {
	nodes, err := kio.FromBytes(data)
	if err != nil {
		msg, line := syntaxError(data, err)
		return nil, &Error{Path: p, Line: line, Err: fmt.Errorf("%w: %s: fix the syntax", ErrInvalidYAML, msg)}
	}
	for i, n := range nodes {
		if err := checkObject(n); err != nil {
			return nil, &Error{Path: p, Err: fmt.Errorf("%w: document %d %v", ErrInvalidYAML, i+1, err)}
		}
	}
	return nodes, nil
}

// syntaxError returns the parser's message for broken YAML, and the line in
// the whole file (kio parses documents one by one, so its lines are relative
// to the document).
func syntaxError(data []byte, kioErr error) (string, int) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return kioErr.Error(), 0
		}
		if err != nil {
			return err.Error(), lineOf(err.Error())
		}
	}
}

// checkObject refuses a document that is not a Kubernetes object.
func checkObject(n *yaml.RNode) error {
	if n.YNode().Kind != yaml.MappingNode {
		return errors.New("is not a mapping: every document must be a Kubernetes object")
	}
	if err := checkMetadata(n); err != nil {
		return err
	}
	kind := n.GetKind()
	switch {
	case kind == "":
		return errors.New("has no kind: every object needs apiVersion, kind and metadata.name")
	case n.GetName() == "" && !strings.HasSuffix(kind, "List"):
		return fmt.Errorf("(%s) has no metadata.name: every object needs apiVersion, kind and metadata.name", kind)
	}
	return nil
}

// checkMetadata refuses metadata, labels or annotations that are not
// mappings, which kyaml's getters read as mappings (and panic on).
func checkMetadata(n *yaml.RNode) error {
	md := mappingField(n.YNode(), "metadata")
	if md == nil {
		return nil
	}
	if md.Kind != yaml.MappingNode {
		return errors.New("has a metadata that is not a mapping: metadata holds name, namespace, labels and annotations as fields")
	}
	for _, field := range []string{"labels", "annotations"} {
		v := mappingField(md, field)
		if v == nil {
			continue
		}
		if v.Kind != yaml.MappingNode {
			return fmt.Errorf("has metadata.%s that is not a mapping: write them as key: value pairs", field)
		}
		for i, c := range v.Content {
			c = resolveAlias(c)
			if c.Kind != yaml.ScalarNode {
				return fmt.Errorf("has metadata.%s with a %s that is not a string (entry %d): they map strings to strings",
					field, [2]string{"key", "value"}[i%2], i/2+1)
			}
			if i%2 == 0 && c.Value == "" {
				return fmt.Errorf("has metadata.%s with an empty key (entry %d): every key needs a name", field, i/2+1)
			}
		}
	}
	return nil
}

// resolveAlias returns the node an alias stands for, or n.
func resolveAlias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// mappingField returns the value of field in the mapping n, aliases
// followed, or nil when it is absent or null.
func mappingField(n *yaml.Node, field string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != field {
			continue
		}
		v := resolveAlias(n.Content[i+1])
		if yaml.IsYNodeNilOrEmpty(v) {
			return nil
		}
		return v
	}
	return nil
}

// checkPluginConfig refuses a generator, transformer or validator that is
// not one of kustomize's builtins, and any that asks for a KRM function.
func checkPluginConfig(n *yaml.RNode) error {
	what := fmt.Sprintf("%s %s", n.GetKind(), n.GetName())
	annotations := n.GetAnnotations()
	for _, key := range functionMarkers {
		if _, ok := annotations[key]; ok {
			return fmt.Errorf("%w: %s is a KRM function (annotation %s): exec and container functions would run code while rendering; "+
				"commit the function's output instead", ErrPlugin, what, key)
		}
	}
	if fn, err := n.Pipe(yaml.Lookup("metadata", "configFn")); err != nil || fn != nil {
		return fmt.Errorf("%w: %s is a KRM function (metadata.configFn): commit the function's output instead", ErrPlugin, what)
	}
	if n.GetApiVersion() != "builtin" {
		return fmt.Errorf("%w: %s (apiVersion %q) is an external plugin, which would run code while rendering: "+
			"use kustomize's builtin generators and transformers (apiVersion: builtin)", ErrPlugin, what, n.GetApiVersion())
	}
	if n.GetKind() == "HelmChartInflationGenerator" {
		return fmt.Errorf("%w: %s would run helm: render the chart into plain manifests and commit those", ErrHelm, what)
	}
	return remoteFileFields(n.YNode(), what)
}

// pluginFileFields are the fields in which builtin plugin configurations
// name files that kustomize loads (and fetches over HTTP when they are URLs).
var pluginFileFields = map[string]bool{
	"path": true, "paths": true, "files": true, "envs": true, "env": true,
	"targetFilePath": true, "valuesFile": true, "additionalValuesFiles": true,
}

// remoteFileFields refuses a URL in any file field of a builtin plugin
// configuration. Other paths need no check here: kustomize reads them from
// the in-memory file system, which holds the artifact and nothing else.
func remoteFileFields(n *yaml.Node, what string) error {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if !pluginFileFields[n.Content[i].Value] {
				continue
			}
			for _, v := range scalars(n.Content[i+1]) {
				if isRemote(fileSourcePath(v)) {
					return fmt.Errorf("%w: %s names %q in %s: Flotilla renders only what is in the source",
						ErrRemote, what, redact.URL(fileSourcePath(v)), n.Content[i].Value)
				}
			}
		}
	}
	for _, c := range n.Content {
		if err := remoteFileFields(c, what); err != nil {
			return err
		}
	}
	return nil
}

// scalars returns the scalar values of n and of its sequence items.
func scalars(n *yaml.Node) []string {
	switch n.Kind {
	case yaml.ScalarNode:
		return []string{n.Value}
	case yaml.SequenceNode:
		var out []string
		for _, c := range n.Content {
			if c.Kind == yaml.ScalarNode {
				out = append(out, c.Value)
			}
		}
		return out
	}
	return nil
}

// collectSecret remembers the values of a Secret so that they can be masked
// in kustomize's messages.
func (g *guard) collectSecret(n *yaml.RNode) {
	if n.GetKind() != "Secret" {
		return
	}
	for _, field := range []string{"data", "stringData"} {
		m := n.Field(field)
		if m == nil || m.Value.YNode().Kind != yaml.MappingNode {
			continue
		}
		content := m.Value.YNode().Content
		for i := 1; i < len(content); i += 2 {
			v := content[i].Value
			g.secrets = append(g.secrets, v)
			if decoded, err := base64.StdEncoding.DecodeString(v); err == nil {
				g.secrets = append(g.secrets, string(decoded))
			}
		}
	}
}

// generatorArg is one configMapGenerator or secretGenerator entry.
type generatorArg struct {
	field  string
	args   types.GeneratorArgs
	secret bool
}

func (c *check) generatorArgs() []generatorArg {
	var out []generatorArg
	for _, a := range c.k.ConfigMapGenerator {
		out = append(out, generatorArg{field: "configMapGenerator", args: a.GeneratorArgs})
	}
	for _, a := range c.k.SecretGenerator {
		out = append(out, generatorArg{field: "secretGenerator", args: a.GeneratorArgs, secret: true})
	}
	return out
}

// generators checks the literals and env files of configMapGenerator and
// secretGenerator where kustomize would quote them in its messages, and
// collects the values of secretGenerator for masking.
func (c *check) generators() error {
	for _, g := range c.generatorArgs() {
		if err := c.decryptGeneratorSources(g); err != nil {
			return err
		}
		if err := c.literals(g); err != nil {
			return err
		}
		for _, e := range append(g.args.EnvSources, g.args.EnvSource) {
			if err := c.envFile(g, e); err != nil {
				return err
			}
		}
		if g.secret {
			c.collectFiles(g.args.FileSources)
		}
	}
	return nil
}

func (c *check) literals(g generatorArg) error {
	for i, l := range g.args.LiteralSources {
		key, value, found := strings.Cut(l, "=")
		if !found || key == "" {
			// The entry is not quoted: it may be a secret value written without its key.
			return &Error{Path: c.file, Err: fmt.Errorf("%w: %s %q: literal %d is not KEY=VALUE: write it as KEY=VALUE",
				ErrInvalidKustomization, g.field, g.args.Name, i+1)}
		}
		if g.secret {
			c.g.secrets = append(c.g.secrets, value, strings.Trim(value, `"'`))
		}
	}
	return nil
}

// envFile checks that an env file is UTF-8 (kustomize quotes a bad line in
// its message) and collects a secret's values.
func (c *check) envFile(g generatorArg, e string) error {
	if e == "" {
		return nil
	}
	data, err := c.g.t.readFile(filepath.Join(c.dir, e))
	if err != nil {
		return nil // reported by files()
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), len(data)+1)
	for line := 1; sc.Scan(); line++ {
		if !utf8.Valid(sc.Bytes()) {
			return &Error{Path: filepath.Join(c.dir, e), Line: line, Err: fmt.Errorf("%w: %s %q: env file line is not valid UTF-8: fix its encoding",
				ErrInvalidKustomization, g.field, g.args.Name)}
		}
		if _, value, found := strings.Cut(sc.Text(), "="); found && g.secret {
			c.g.secrets = append(c.g.secrets, value, strings.Trim(value, `"'`))
		}
	}
	return nil
}

func (c *check) collectFiles(sources []string) {
	for _, s := range sources {
		data, err := c.g.t.readFile(filepath.Join(c.dir, fileSourcePath(s)))
		if err != nil {
			continue
		}
		c.g.secrets = append(c.g.secrets, string(data))
		c.g.secrets = append(c.g.secrets, strings.Split(string(data), "\n")...)
	}
}
