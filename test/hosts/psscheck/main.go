// pss-check: reads a JSON array of Kubernetes manifests on stdin and evaluates the pod template of every
// Deployment and StatefulSet against a Pod Security Standards level (first argument: baseline or
// restricted), with the upstream evaluator the API server's admission plugin uses. Prints one line per
// rejected pod and exits 1 if any is rejected, 2 on bad input.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Println("usage: pss-check baseline|restricted < manifests.json")
		os.Exit(2)
	}
	level, err := api.ParseLevel(os.Args[1])
	if err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	evaluator, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	var manifests []json.RawMessage
	if err := json.Unmarshal(input, &manifests); err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	rejected, evaluated := 0, 0
	for _, raw := range manifests {
		var head struct {
			Kind     string            `json:"kind"`
			Metadata metav1.ObjectMeta `json:"metadata"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			fmt.Println(err)
			os.Exit(2)
		}
		var template *corev1.PodTemplateSpec
		switch head.Kind {
		case "Deployment":
			var d appsv1.Deployment
			if err := json.Unmarshal(raw, &d); err != nil {
				fmt.Println(err)
				os.Exit(2)
			}
			template = &d.Spec.Template
		case "StatefulSet":
			var s appsv1.StatefulSet
			if err := json.Unmarshal(raw, &s); err != nil {
				fmt.Println(err)
				os.Exit(2)
			}
			template = &s.Spec.Template
		default:
			continue
		}
		evaluated++
		results := evaluator.EvaluatePod(api.LevelVersion{Level: level, Version: api.LatestVersion()}, &template.ObjectMeta, &template.Spec)
		if agg := policy.AggregateCheckResults(results); !agg.Allowed {
			rejected++
			fmt.Printf("%s %s: %s\n", head.Kind, head.Metadata.Name, agg.ForbiddenDetail())
		}
	}
	fmt.Printf("%d pods evaluated at %s, %d rejected\n", evaluated, level, rejected)
	if rejected > 0 {
		os.Exit(1)
	}
}
