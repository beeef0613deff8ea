// manifest-check decodes each Kubernetes manifest (a JSON array on stdin) strictly into the API's own
// Go types, so a misspelt or misplaced field or a wrong type fails as it would at the API server's
// strict field validation. Prints one line per problem and exits 1 when there is any.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
)

func target(apiVersion, kind string) any {
	switch apiVersion + "/" + kind {
	case "v1/ConfigMap":
		return &corev1.ConfigMap{}
	case "v1/Secret":
		return &corev1.Secret{}
	case "v1/Service":
		return &corev1.Service{}
	case "v1/Namespace":
		return &corev1.Namespace{}
	case "apps/v1/Deployment":
		return &appsv1.Deployment{}
	case "apps/v1/StatefulSet":
		return &appsv1.StatefulSet{}
	case "autoscaling/v2/HorizontalPodAutoscaler":
		return &autoscalingv2.HorizontalPodAutoscaler{}
	case "policy/v1/PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}
	case "networking.k8s.io/v1/Ingress":
		return &networkingv1.Ingress{}
	case "networking.k8s.io/v1/NetworkPolicy":
		return &networkingv1.NetworkPolicy{}
	}
	return nil
}

func main() {
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var manifests []json.RawMessage
	if err := json.Unmarshal(input, &manifests); err != nil {
		fmt.Fprintln(os.Stderr, "input is not a JSON array:", err)
		os.Exit(2)
	}
	failed := false
	for i, raw := range manifests {
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		_ = json.Unmarshal(raw, &head)
		obj := target(head.APIVersion, head.Kind)
		if obj == nil {
			fmt.Printf("%d %s/%s %s: unknown kind\n", i, head.APIVersion, head.Kind, head.Metadata.Name)
			failed = true
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(obj); err != nil {
			fmt.Printf("%d %s %s: %v\n", i, head.Kind, head.Metadata.Name, err)
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}
