package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/access"
	"github.com/autopulse/autopulse/internal/audit"
	"github.com/autopulse/autopulse/internal/call"
)

func TestInquiriesCRUDAndAssignment(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)
	manager := e.newUser(t, tn, access.RoleManager)
	ob := e.newOutbound(t, tn, outboundOptions{})

	res := e.do(t, http.MethodPost, "/api/v1/inquiries", tok, withJSON(map[string]any{
		"customer_id": ob.Customer, "topic": "pricing", "message": " How much is a brake job? ",
	}))
	requireStatus(t, http.StatusCreated, res)
	var in call.Inquiry
	res.decode(t, &in)
	require.Equal(t, "How much is a brake job?", in.Message)
	require.Equal(t, "Casey Driver", in.CustomerName)
	require.Equal(t, ob.Phone, *in.CustomerPhone)
	require.Equal(t, "casey@example.com", *in.CustomerEmail)
	require.Equal(t, call.InquiryNew, in.Status)
	require.Nil(t, in.AssignedTo)

	res = e.do(t, http.MethodPost, "/api/v1/inquiries/"+in.ID.String()+"/assign", tok, withJSON(map[string]any{"user_id": manager.ID}))
	requireStatus(t, http.StatusOK, res)
	res.decode(t, &in)
	require.Equal(t, manager.ID, *in.AssignedTo)

	res = e.do(t, http.MethodGet, "/api/v1/inquiries?assigned_to="+manager.ID.String(), tok)
	requireStatus(t, http.StatusOK, res)
	var list struct{ Items []call.Inquiry }
	res.decode(t, &list)
	require.Len(t, list.Items, 1)
	res = e.do(t, http.MethodGet, "/api/v1/inquiries?unassigned=true", tok)
	requireStatus(t, http.StatusOK, res)
	res.decode(t, &list)
	require.Empty(t, list.Items)

	res = e.do(t, http.MethodPatch, "/api/v1/inquiries/"+in.ID.String(), tok, withJSON(map[string]any{"topic": "brakes", "customer_email": ""}))
	requireStatus(t, http.StatusOK, res)
	res.decode(t, &in)
	require.Equal(t, "brakes", in.Topic)
	require.Nil(t, in.CustomerEmail)
	require.Equal(t, "How much is a brake job?", in.Message)

	// new → in_progress → responded → closed, with the illegal steps refused.
	steps := []struct {
		status string
		want   int
	}{
		{"responded", http.StatusConflict},
		{"in_progress", http.StatusOK},
		{"new", http.StatusConflict},
		{"responded", http.StatusOK},
		{"closed", http.StatusOK},
		{"responded", http.StatusConflict},
		{"in_progress", http.StatusOK}, // reopened
		{"closed", http.StatusOK},
	}
	for _, st := range steps {
		res = e.do(t, http.MethodPost, "/api/v1/inquiries/"+in.ID.String()+"/status", tok, withJSON(map[string]any{"status": st.status}))
		requireStatus(t, st.want, res)
		if st.want == http.StatusConflict {
			res.problem(t)
			continue
		}
		res.decode(t, &in)
		require.Equal(t, st.status, in.Status)
	}

	res = e.do(t, http.MethodPost, "/api/v1/inquiries/"+in.ID.String()+"/assign", tok, withJSON(map[string]any{"user_id": nil}))
	requireStatus(t, http.StatusOK, res)
	res.decode(t, &in)
	require.Nil(t, in.AssignedTo)

	requireStatus(t, http.StatusNoContent, e.do(t, http.MethodDelete, "/api/v1/inquiries/"+in.ID.String(), tok))
	requireStatus(t, http.StatusNotFound, e.do(t, http.MethodGet, "/api/v1/inquiries/"+in.ID.String(), tok))

	res = e.do(t, http.MethodGet, "/api/v1/audit-logs?entity=inquiry&entity_id="+in.ID.String()+"&limit=200", tok)
	requireStatus(t, http.StatusOK, res)
	var logs struct{ Items []audit.Entry }
	res.decode(t, &logs)
	// create, assign, patch, five status changes, unassign, delete.
	require.Len(t, logs.Items, 10)
	require.Equal(t, audit.Delete, logs.Items[0].Action)
	require.Equal(t, audit.Create, logs.Items[len(logs.Items)-1].Action)
}

func TestInquiryAssigneeMustBeActive(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)
	agent := e.newUser(t, tn, access.RoleAgent)
	res := e.do(t, http.MethodPatch, "/api/v1/users/"+agent.ID.String(), tok, withJSON(map[string]any{"is_active": false}))
	requireStatus(t, http.StatusOK, res)
	res = e.do(t, http.MethodPost, "/api/v1/inquiries", tok, withJSON(map[string]any{"message": "x", "assigned_to": agent.ID}))
	requireStatus(t, http.StatusUnprocessableEntity, res)
	p := res.problem(t)
	require.Equal(t, "body.assigned_to", p.Errors[0].Location)
	require.Contains(t, p.Errors[0].Message, "deactivated")
}
