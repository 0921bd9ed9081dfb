package router

import (
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// weights are a route's split between the primary and the canary, in
// percent.
type weights struct{ primary, canary int }

// backends names the two Services of a Canary's route and their port.
type backends struct {
	primary, canary string
	port            int32
}

func newBackends(c *v1alpha1.Canary) backends {
	apex := apexName(c)
	return backends{primary: apex + "-primary", canary: apex + "-canary", port: c.Spec.Service.Port}
}

// desiredSpec is the spec of c's HTTPRoute with weights w. current (nil
// when new) gives the user's fields to keep.
func desiredSpec(c *v1alpha1.Canary, current *gatewayv1.HTTPRoute, w weights) gatewayv1.HTTPRouteSpec {
	b := newBackends(c)
	svc := c.Spec.Service
	spec := gatewayv1.HTTPRouteSpec{
		CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: parentRefs(svc.GatewayRefs)},
		Hostnames:       hostnames(svc.Hosts),
	}
	var own, rest []gatewayv1.HTTPRouteRule
	if current != nil {
		own, rest = splitRules(current.Spec.Rules, b)
	}
	serviceMatches := httpMatches(svc.Match)
	weighted := gatewayv1.HTTPRouteRule{
		Matches:     serviceMatches,
		BackendRefs: []gatewayv1.HTTPBackendRef{b.ref(b.primary, &w.primary), b.ref(b.canary, &w.canary)},
	}
	if len(c.Spec.Analysis.Match) == 0 {
		spec.Rules = []gatewayv1.HTTPRouteRule{keepUserFields(weighted, findRule(own, b, true), svc.Timeout)}
		spec.Rules = append(spec.Rules, rest...)
		return spec
	}
	weighted.Matches = mergeMatches(httpMatches(c.Spec.Analysis.Match), serviceMatches)
	primaryOnly := gatewayv1.HTTPRouteRule{
		Matches:     serviceMatches,
		BackendRefs: []gatewayv1.HTTPBackendRef{b.ref(b.primary, nil)},
	}
	spec.Rules = []gatewayv1.HTTPRouteRule{
		keepUserFields(weighted, findRule(own, b, true), svc.Timeout),
		keepUserFields(primaryOnly, findRule(own, b, false), svc.Timeout),
	}
	spec.Rules = append(spec.Rules, rest...)
	return spec
}

// ref is a backendRef to the Service name at the Canary's port, with a
// weight when weight is not nil.
func (b backends) ref(name string, weight *int) gatewayv1.HTTPBackendRef {
	r := gatewayv1.HTTPBackendRef{BackendRef: gatewayv1.BackendRef{
		BackendObjectReference: gatewayv1.BackendObjectReference{
			Name: gatewayv1.ObjectName(name),
			Port: ptr.To(b.port),
		},
	}}
	if weight != nil {
		r.Weight = ptr.To(int32(*weight))
	}
	return r
}

// refersTo reports whether ref is the Service name in the route's namespace.
func refersTo(ref gatewayv1.HTTPBackendRef, name string) bool {
	group := ptr.Deref(ref.Group, "")
	kind := ptr.Deref(ref.Kind, "Service")
	return string(ref.Name) == name && group == "" && kind == "Service" && ref.Namespace == nil
}

// ruleUses reports whether rule sends traffic to the Service name.
func ruleUses(rule gatewayv1.HTTPRouteRule, name string) bool {
	for _, ref := range rule.BackendRefs {
		if refersTo(ref, name) {
			return true
		}
	}
	return false
}

// splitRules separates the rules that route to the Canary's Services (the
// router's) from the others (the user's, kept as they are).
func splitRules(rules []gatewayv1.HTTPRouteRule, b backends) (own, rest []gatewayv1.HTTPRouteRule) {
	for _, r := range rules {
		if ruleUses(r, b.primary) || ruleUses(r, b.canary) {
			own = append(own, r)
		} else {
			rest = append(rest, r)
		}
	}
	return own, rest
}

// findRule returns the first of rules that has both Services (weighted) or
// the primary only (!weighted); nil when none has.
func findRule(rules []gatewayv1.HTTPRouteRule, b backends, weighted bool) *gatewayv1.HTTPRouteRule {
	for i, r := range rules {
		if ruleUses(r, b.primary) && ruleUses(r, b.canary) == weighted {
			return &rules[i]
		}
	}
	return nil
}

// keepUserFields copies onto rule the fields the router does not set from
// the rule it replaces (old, nil when none), and sets the request timeout
// to the Canary's (none when timeout is empty).
func keepUserFields(rule gatewayv1.HTTPRouteRule, old *gatewayv1.HTTPRouteRule, timeout string) gatewayv1.HTTPRouteRule {
	var t gatewayv1.HTTPRouteTimeouts
	if old != nil {
		rule.Name = old.Name
		rule.Filters = old.Filters
		rule.Retry = old.Retry
		rule.SessionPersistence = old.SessionPersistence
		if old.Timeouts != nil {
			t.BackendRequest = old.Timeouts.BackendRequest
		}
	}
	if timeout != "" {
		t.Request = ptr.To(gatewayv1.Duration(timeout))
	}
	if t != (gatewayv1.HTTPRouteTimeouts{}) {
		rule.Timeouts = &t
	}
	return rule
}

// currentWeights reads the weights of the first rule that has both
// Services, in percent; ok is false when there is no such rule or its
// weights are both zero. A backendRef without a weight weighs 1, as Gateway
// API says.
func currentWeights(route *gatewayv1.HTTPRoute, b backends) (w weights, ok bool) {
	rule := findRule(route.Spec.Rules, b, true)
	if rule == nil {
		return weights{}, false
	}
	var p, c int
	for _, ref := range rule.BackendRefs {
		switch {
		case refersTo(ref, b.primary):
			p += int(ptr.Deref(ref.Weight, 1))
		case refersTo(ref, b.canary):
			c += int(ptr.Deref(ref.Weight, 1))
		}
	}
	if p+c == 0 {
		return weights{}, false
	}
	primary := (p*100 + (p+c)/2) / (p + c)
	return weights{primary: primary, canary: 100 - primary}, true
}

// parentRefs turns the Canary's gatewayRefs into parentRefs, setting only
// the fields given (Gateway API defaults the rest).
func parentRefs(refs []v1alpha1.GatewayRef) []gatewayv1.ParentReference {
	var out []gatewayv1.ParentReference
	for _, r := range refs {
		p := gatewayv1.ParentReference{Name: gatewayv1.ObjectName(r.Name), Port: r.Port}
		if r.Group != "" {
			p.Group = ptr.To(gatewayv1.Group(r.Group))
		}
		if r.Kind != "" {
			p.Kind = ptr.To(gatewayv1.Kind(r.Kind))
		}
		if r.Namespace != "" {
			p.Namespace = ptr.To(gatewayv1.Namespace(r.Namespace))
		}
		if r.SectionName != "" {
			p.SectionName = ptr.To(gatewayv1.SectionName(r.SectionName))
		}
		out = append(out, p)
	}
	return out
}

func hostnames(hosts []string) []gatewayv1.Hostname {
	var out []gatewayv1.Hostname
	for _, h := range hosts {
		out = append(out, gatewayv1.Hostname(h))
	}
	return out
}

// httpMatches turns the Canary's matches into Gateway API's.
func httpMatches(in []v1alpha1.HTTPMatch) []gatewayv1.HTTPRouteMatch {
	var out []gatewayv1.HTTPRouteMatch
	for _, m := range in {
		var hm gatewayv1.HTTPRouteMatch
		if m.Path != nil {
			hm.Path = &gatewayv1.HTTPPathMatch{}
			if m.Path.Type != "" {
				hm.Path.Type = ptr.To(gatewayv1.PathMatchType(m.Path.Type))
			}
			if m.Path.Value != "" {
				hm.Path.Value = ptr.To(m.Path.Value)
			}
		}
		for _, h := range m.Headers {
			header := gatewayv1.HTTPHeaderMatch{Name: gatewayv1.HTTPHeaderName(h.Name), Value: h.Value}
			if h.Type != "" {
				header.Type = ptr.To(gatewayv1.HeaderMatchType(h.Type))
			}
			hm.Headers = append(hm.Headers, header)
		}
		out = append(out, hm)
	}
	return out
}

// mergeMatches combines each A/B match with each service match (both must
// hold): the headers of both, and the service match's path when the A/B
// match has none. Either list alone is returned as it is.
func mergeMatches(ab, service []gatewayv1.HTTPRouteMatch) []gatewayv1.HTTPRouteMatch {
	if len(service) == 0 {
		return ab
	}
	var out []gatewayv1.HTTPRouteMatch
	for _, a := range ab {
		for _, s := range service {
			m := *a.DeepCopy()
			if m.Path == nil {
				m.Path = s.Path.DeepCopy()
			}
			m.Headers = append(m.Headers, s.Headers...)
			m.QueryParams = append(m.QueryParams, s.QueryParams...)
			if m.Method == nil {
				m.Method = s.Method
			}
			out = append(out, m)
		}
	}
	return out
}
