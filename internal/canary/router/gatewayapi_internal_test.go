package router

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func TestCurrentWeightsReadsPercentages(t *testing.T) {
	b := backends{primary: "app-primary", canary: "app-canary", port: 80}
	ref := func(name string, weight *int32) gatewayv1.HTTPBackendRef {
		return gatewayv1.HTTPBackendRef{BackendRef: gatewayv1.BackendRef{
			BackendObjectReference: gatewayv1.BackendObjectReference{Name: gatewayv1.ObjectName(name)},
			Weight:                 weight,
		}}
	}
	for _, tc := range []struct {
		name   string
		rules  []gatewayv1.HTTPRouteRule
		want   weights
		wantOK bool
	}{
		{
			name:  "percent weights as the router writes them",
			rules: []gatewayv1.HTTPRouteRule{{BackendRefs: []gatewayv1.HTTPBackendRef{ref("app-primary", ptr.To[int32](80)), ref("app-canary", ptr.To[int32](20))}}},
			want:  weights{80, 20}, wantOK: true,
		},
		{
			name:  "weights a person wrote, not in percent",
			rules: []gatewayv1.HTTPRouteRule{{BackendRefs: []gatewayv1.HTTPBackendRef{ref("app-primary", ptr.To[int32](1)), ref("app-canary", ptr.To[int32](2))}}},
			want:  weights{33, 67}, wantOK: true,
		},
		{
			name:  "no weight weighs 1",
			rules: []gatewayv1.HTTPRouteRule{{BackendRefs: []gatewayv1.HTTPBackendRef{ref("app-primary", nil), ref("app-canary", nil)}}},
			want:  weights{50, 50}, wantOK: true,
		},
		{
			name: "the weighted rule after a primary-only rule",
			rules: []gatewayv1.HTTPRouteRule{
				{BackendRefs: []gatewayv1.HTTPBackendRef{ref("app-primary", nil)}},
				{BackendRefs: []gatewayv1.HTTPBackendRef{ref("app-primary", ptr.To[int32](0)), ref("app-canary", ptr.To[int32](100))}},
			},
			want: weights{0, 100}, wantOK: true,
		},
		{
			name:  "both weights zero is no split",
			rules: []gatewayv1.HTTPRouteRule{{BackendRefs: []gatewayv1.HTTPBackendRef{ref("app-primary", ptr.To[int32](0)), ref("app-canary", ptr.To[int32](0))}}},
		},
		{
			name:  "no rule with both Services",
			rules: []gatewayv1.HTTPRouteRule{{BackendRefs: []gatewayv1.HTTPBackendRef{ref("app-primary", nil), ref("other", nil)}}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			route := &gatewayv1.HTTPRoute{Spec: gatewayv1.HTTPRouteSpec{Rules: tc.rules}}
			got, ok := currentWeights(route, b)
			if ok != tc.wantOK || got != tc.want {
				t.Errorf("currentWeights = %v, %v; want %v, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestMergeMatchesCombinesEachABMatchWithEachServiceMatch(t *testing.T) {
	header := func(name, value string) []gatewayv1.HTTPHeaderMatch {
		return []gatewayv1.HTTPHeaderMatch{{Name: gatewayv1.HTTPHeaderName(name), Value: value}}
	}
	path := func(p string) *gatewayv1.HTTPPathMatch { return &gatewayv1.HTTPPathMatch{Value: ptr.To(p)} }
	ab := []gatewayv1.HTTPRouteMatch{{Headers: header("x-canary", "insider")}, {Path: path("/beta"), Headers: header("x-beta", "1")}}
	service := []gatewayv1.HTTPRouteMatch{{Path: path("/shop"), Headers: header("x-tenant", "a")}}
	got := mergeMatches(ab, service)
	want := []gatewayv1.HTTPRouteMatch{
		{Path: path("/shop"), Headers: append(header("x-canary", "insider"), header("x-tenant", "a")...)},
		{Path: path("/beta"), Headers: append(header("x-beta", "1"), header("x-tenant", "a")...)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mergeMatches (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(ab, mergeMatches(ab, nil)); diff != "" {
		t.Errorf("mergeMatches without service matches (-want +got):\n%s", diff)
	}
}
