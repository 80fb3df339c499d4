// Package certmanager holds the cert-manager Certificate obsgen writes for
// Prometheus' mesh identity (monitoring.prometheus.istioCertificates.source
// cert-manager). cert-manager's Go module is not a dependency: these are
// the fields obsgen writes, named as the cert-manager.io/v1 Certificate
// schema names them (cert-manager.io docs/reference/api-docs,
// "CertificateSpec").
package certmanager

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// APIVersion and Kind of a Certificate.
const (
	APIVersion = "cert-manager.io/v1"
	Kind       = "Certificate"
)

// Certificate is a cert-manager Certificate.
type Certificate struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              CertificateSpec `json:"spec"`
}

// CertificateSpec is the part of cert-manager's CertificateSpec obsgen
// writes.
type CertificateSpec struct {
	SecretName  string      `json:"secretName"`
	URIs        []string    `json:"uris,omitempty"`
	Usages      []string    `json:"usages,omitempty"`
	Duration    string      `json:"duration,omitempty"`
	RenewBefore string      `json:"renewBefore,omitempty"`
	PrivateKey  *PrivateKey `json:"privateKey,omitempty"`
	IssuerRef   IssuerRef   `json:"issuerRef"`
}

// PrivateKey is the Certificate's key settings.
type PrivateKey struct {
	Algorithm      string `json:"algorithm,omitempty"`
	Size           int    `json:"size,omitempty"`
	RotationPolicy string `json:"rotationPolicy,omitempty"`
}

// IssuerRef names the issuer (cert-manager's ObjectReference).
type IssuerRef struct {
	Name  string `json:"name"`
	Kind  string `json:"kind,omitempty"`
	Group string `json:"group,omitempty"`
}
