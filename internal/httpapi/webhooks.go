package httpapi

import (
	"context"
	"net/http"
	"reflect"

	"github.com/danielgtaylor/huma/v2"

	"github.com/autopulse/autopulse/internal/call"
	"github.com/autopulse/autopulse/internal/vapi"
)

// vapiWebhookInput is a Vapi server message exactly as sent: the signature
// is checked on these bytes, so huma must not decode them.
type vapiWebhookInput struct {
	Signature string `header:"X-Vapi-Signature" doc:"Hex HMAC-SHA256 of the raw body under the webhook secret (a sha256= prefix is accepted)"`
	Secret    string `header:"X-Vapi-Secret" doc:"Vapi's older scheme: the shared secret itself; used only without X-Vapi-Signature"`
	// RawBody is declared as opaque bytes so that huma validates nothing;
	// rawWebhook documents it as the JSON it is.
	RawBody []byte `contentType:"application/octet-stream"`
	header  http.Header
}

// Resolve keeps the authentication headers with all their values: a
// repeated header must fail verification, not be read once.
func (in *vapiWebhookInput) Resolve(ctx huma.Context) []error {
	in.header = http.Header{}
	ctx.EachHeader(func(name, value string) {
		if k := http.CanonicalHeaderKey(name); k == vapi.SignatureHeader || k == vapi.SecretHeader {
			in.header.Add(k, value)
		}
	})
	return nil
}

// vapiMessageDoc documents the body: Vapi's server message envelope.
type vapiMessageDoc struct {
	Message vapiMessageBodyDoc `json:"message"`
}

type vapiMessageBodyDoc struct {
	Type   string         `json:"type" doc:"status-update and end-of-call-report are processed; other types are answered 200 and ignored"`
	Status string         `json:"status,omitempty" doc:"status-update: queued, ringing, in-progress, forwarding or ended"`
	Call   map[string]any `json:"call" doc:"Vapi's Call object; assistantOverrides.metadata carries autopulse_call_id"`
}

// webhookVapiRoute registers webhookVapi with Vapi's body cap and the
// envelope documented.
// webhookVapiPath is where Vapi posts server messages.
const webhookVapiPath = "/api/v1/webhooks/vapi"

func (s *Server) webhookVapiRoute() registrar {
	return rawWebhook[vapiWebhookInput, body[call.WebhookReceipt], vapiMessageDoc](s.webhookVapi, vapi.MaxEventBytes)
}

func (s *Server) webhookVapi(ctx context.Context, in *vapiWebhookInput) (*body[call.WebhookReceipt], error) {
	r, err := s.deps.Calls.ReceiveVapi(ctx, in.header, in.RawBody)
	return bodyOf(r), err
}

// rawWebhook registers a webhook handler: its body cap is the provider's
// (the limits middleware lets such a body through: see largeBodyOf), and
// its request body is documented as B rather than as opaque bytes.
func rawWebhook[I, O, B any](h func(context.Context, *I) (*O, error), maxBytes int64) registrar {
	return func(s *Server, api huma.API, op huma.Operation) {
		// huma refuses a body that fills its limit, hence the extra byte.
		op.MaxBodyBytes = maxBytes + 1
		op.Description = "Authenticated by the signature of the raw body (X-Vapi-Signature), not by a bearer token. " +
			"A bad or missing signature is 401 with no effect; a delivery already received is answered 200 again " +
			"(result duplicate) and processed once; message types AutoPulse does not act on are answered 200 (result ignored)."
		handle(h)(s, api, op)
		item := api.OpenAPI().Paths[op.Path]
		if item == nil || item.Post == nil || item.Post.RequestBody == nil {
			return
		}
		schema := api.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[B](), true, "")
		item.Post.RequestBody.Content = map[string]*huma.MediaType{"application/json": {Schema: schema}}
	}
}
