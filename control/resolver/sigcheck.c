/*
 * One RRset against one zone's DNSKEY set (validate.h, "sigcheck").
 *
 * Candidates are tried in record order: each RRSIG whose signer is the zone,
 * whose labels fit the owner, whose algorithm we support and whose validity
 * window holds now (with HF_VAL_SKEW_S either side), with each DNSKEY of the
 * zone that has the RRSIG's key tag and algorithm and the Zone Key bit
 * (RFC 4035 §5.3.1). The first pair that verifies makes the RRset SECURE.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "include/holdfast/defines.h"
#include "include/holdfast/errcode.h"
#include "include/holdfast/name.h"
#include "include/holdfast/rrtype.h"
#include "control/dnssec/crypto.h"
#include "control/resolver/resolver_impl.h"

void hf_verdict_set(struct hf_verdict *v, uint8_t sec, int ede, const char *fmt, ...)
{
	v->sec = sec;
	v->has_ede = ede >= 0;
	v->ede = ede >= 0 ? (uint16_t)ede : 0;
	v->text[0] = '\0';
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		(void)vsnprintf(v->text, sizeof(v->text), fmt, ap);
		va_end(ap);
	}
}

const char *hf_val_type_name(uint16_t type, char *buf, size_t size)
{
	/* Lower case, as operators write "example.de/nsec3". */
	char upper[16];
	const char *name = hf_type_to_text(type, upper, sizeof(upper));
	size_t i = 0;
	for (; name[i] && i + 1 < size; i++)
		buf[i] = (char)tolower((unsigned char)name[i]);
	if (size)
		buf[i] = '\0';
	return buf;
}

const char *hf_val_rrname(const uint8_t *owner, uint16_t type, char *out, size_t size)
{
	char name[HF_NAME_TEXT_MAXLEN], tbuf[16];
	hf_name_to_text(owner, name, sizeof(name));
	size_t len = strlen(name);
	/* "example.de/nsec3", as operators read it in logs: no trailing dot but for the root. */
	if (len > 1 && name[len - 1] == '.')
		name[len - 1] = '\0';
	snprintf(out, size, "%s/%s", name, hf_val_type_name(type, tbuf, sizeof(tbuf)));
	return out;
}

uint32_t hf_val_now_epoch(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint32_t)ts.tv_sec;
}

/* RFC 4034 §3.1.5: serial number arithmetic (RFC 1982) on 32-bit times. */
static bool time_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static void finish(struct hf_sigcheck *c, const struct hf_verdict *v, unsigned labels)
{
	c->done = true;
	c->cb(c->ctx, v, labels);
}

/*
 * Nothing verified: say why, the most telling reason first. The zone's keys
 * are trusted here, so an RRset without a usable RRSIG is bogus whatever the
 * reason (RFC 6840 §5.11: unsupported algorithms in RRSIGs are ignored; a
 * zone is insecure for its algorithms only by its DS set, zonekey.c).
 */
static void fail(struct hf_sigcheck *c)
{
	struct hf_verdict v;
	char rr[HF_NAME_TEXT_MAXLEN + 16], zone[HF_NAME_TEXT_MAXLEN], alg[16];
	hf_val_rrname(c->set->owner, c->set->type, rr, sizeof(rr));
	hf_name_to_text(c->zone, zone, sizeof(zone));
	if (c->set->n_sig == 0)
		hf_verdict_set(&v, HF_SEC_BOGUS, HF_EDE_RRSIGS_MISSING, "no RRSIG over %s (zone %s is signed)",
			       rr, zone);
	else if (c->any_badsig)
		hf_verdict_set(&v, HF_SEC_BOGUS, HF_EDE_DNSSEC_BOGUS,
			       "RRSIG with malformed signature found for %s (keytag=%u)", rr, c->badsig_tag);
	else if (c->any_crypto)
		hf_verdict_set(&v, HF_SEC_INDETERMINATE, HF_EDE_OTHER,
			       "could not check the RRSIG over %s: crypto library failure", rr);
	else if (c->any_expired)
		hf_verdict_set(&v, HF_SEC_BOGUS, HF_EDE_SIGNATURE_EXPIRED, "RRSIG over %s expired (keytag=%u)",
			       rr, c->expired_tag);
	else if (c->any_early)
		hf_verdict_set(&v, HF_SEC_BOGUS, HF_EDE_SIGNATURE_NOT_YET,
			       "RRSIG over %s not yet valid (keytag=%u)", rr, c->early_tag);
	else if (c->any_nokey)
		hf_verdict_set(&v, HF_SEC_BOGUS, HF_EDE_DNSKEY_MISSING,
			       "no DNSKEY of %s matches the RRSIG over %s (keytag=%u, %s)", zone, rr,
			       c->nokey_tag, hf_alg_name(c->nokey_alg, alg, sizeof(alg)));
	else if (c->any_unusable && c->unusable_alg)
		hf_verdict_set(&v, HF_SEC_BOGUS, HF_EDE_RRSIGS_MISSING,
			       "no usable RRSIG over %s from zone %s (only algorithm %s)", rr, zone,
			       hf_alg_name(c->unusable_alg, alg, sizeof(alg)));
	else
		hf_verdict_set(&v, HF_SEC_BOGUS, HF_EDE_RRSIGS_MISSING,
			       "no usable RRSIG over %s from zone %s (malformed or for another signer)", rr, zone);
	finish(c, &v, 0);
}

static void on_verified(void *ctx, int status);

/* The result of one (RRSIG, DNSKEY) check. Returns true when the RRset is SECURE. */
static bool take_status(struct hf_sigcheck *c, int status, const struct hf_rrsig *sig)
{
	if (status == 0) {
		struct hf_verdict v;
		hf_verdict_set(&v, HF_SEC_SECURE, -1, NULL);
		finish(c, &v, sig->labels);
		return true;
	}
	if (status == HF_EBADSIG || status == HF_EKEY) {
		if (!c->any_badsig)
			c->badsig_tag = sig->key_tag;
		c->any_badsig = true;
	} else if (status == HF_EALGORITHM) {
		c->any_unusable = true;
		c->unusable_alg = sig->alg;
	} else {
		c->any_crypto = true;
	}
	return false;
}

/* Is the RRSIG usable at all (before looking for keys)? Notes why not. */
static bool sig_usable(struct hf_sigcheck *c, const struct hf_rrsig *sig, uint32_t now)
{
	int owner_labels = hf_name_labels(c->set->owner);
	/* A "*" first label does not count (RFC 4034 §3.1.3). */
	if (c->set->owner[0] == 1 && c->set->owner[1] == '*')
		owner_labels--;
	if (!hf_name_equal(sig->signer, c->zone)) {
		/* Signed by a key of another zone: none of this zone's keys can match. */
		if (!c->any_nokey) {
			c->nokey_tag = sig->key_tag;
			c->nokey_alg = sig->alg;
		}
		c->any_nokey = true;
		return false;
	}
	if (sig->labels > owner_labels) {
		c->any_unusable = true;
		return false;
	}
	if (!hf_alg_supported(sig->alg)) {
		c->any_unusable = true;
		c->unusable_alg = sig->alg;
		return false;
	}
	if (time_before(sig->expiration + HF_VAL_SKEW_S, now)) {
		if (!c->any_expired)
			c->expired_tag = sig->key_tag;
		c->any_expired = true;
		return false;
	}
	if (time_before(now, sig->inception - HF_VAL_SKEW_S)) {
		if (!c->any_early)
			c->early_tag = sig->key_tag;
		c->any_early = true;
		return false;
	}
	return true;
}

static void advance(struct hf_sigcheck *c)
{
	c->running = true;
	uint32_t now = hf_val_now_epoch();
	while (!c->waiting && !c->done) {
		unsigned n_sig = c->set->n_sig < HF_VAL_MAX_SIGS ? c->set->n_sig : HF_VAL_MAX_SIGS;
		if (c->sig_i >= n_sig) {
			fail(c);
			break;
		}
		uint16_t len;
		const uint8_t *rd = hf_rrset_rdata(c->set, c->set->n_rr + c->sig_i, &len);
		struct hf_rrsig sig;
		if (rd == NULL || hf_rrsig_parse(rd, len, &sig) != 0 || sig.type_covered != c->set->type) {
			c->any_unusable = true;
			c->sig_i++;
			continue;
		}
		/* A status that came back synchronously or by callback for the previous pair. */
		if (c->last_status != 1) {
			int st = c->last_status;
			c->last_status = 1;
			if (take_status(c, st, &sig))
				break;
		}
		if (c->key_i == 0 && !sig_usable(c, &sig, now)) {
			c->sig_i++;
			continue;
		}
		/* Next key with the RRSIG's tag and algorithm, from key_i on. */
		struct hf_dnskey key;
		bool found = false;
		while (c->key_i < c->keys->n_rr) {
			uint16_t klen;
			const uint8_t *krd = hf_rrset_rdata(c->keys, c->key_i++, &klen);
			if (hf_dnskey_parse(krd, klen, &key) == 0 && key.tag == sig.key_tag &&
			    key.alg == sig.alg && (key.flags & HF_DNSKEY_FLAG_ZONE) &&
			    !(key.flags & HF_DNSKEY_FLAG_REVOKE) && key.protocol == 3) {
				found = true;
				break;
			}
		}
		if (!found) {
			/* Tried every key with this tag (or there was none): next RRSIG. */
			if (!c->tried_key) {
				if (!c->any_nokey) {
					c->nokey_tag = sig.key_tag;
					c->nokey_alg = sig.alg;
				}
				c->any_nokey = true;
			}
			c->tried_key = false;
			c->sig_i++;
			c->key_i = 0;
			continue;
		}
		size_t cap = 18 + HF_NAME_MAXLEN + (size_t)c->set->n_rr * (HF_NAME_MAXLEN + 10) + c->set->len;
		uint8_t *data = malloc(cap);
		if (data == NULL) {
			c->any_crypto = true;
			continue;
		}
		int dlen = hf_rrsig_signed_data(c->set, &sig, data, cap);
		c->tried_key = true;
		if (dlen < 0) {
			free(data);
			c->any_unusable = true;
			c->tried_key = false;
			c->sig_i++;
			c->key_i = 0;
			continue;
		}
		uint32_t exp_left = sig.expiration - now;
		struct hf_verify_req req = {
			.key = &key,
			.data = data,
			.len = (size_t)dlen,
			.sig = sig.sig,
			.sig_len = sig.sig_len,
			.valid_until = (uint64_t)now + (time_before(now, sig.expiration) ? exp_left : 0),
		};
		int status = 0;
		c->waiting = true;
		int ret = hf_verifier_check(c->r->verifier, &req, &status, on_verified, c);
		free(data);
		if (ret == 1) {
			c->waiting = false;
			c->last_status = status;
		} else if (ret < 0) {
			c->waiting = false;
			c->last_status = ret;
		}
	}
	c->running = false;
}

static void on_verified(void *ctx, int status)
{
	struct hf_sigcheck *c = ctx;
	c->waiting = false;
	c->last_status = status;
	if (!c->running)
		advance(c);
}

void hf_sigcheck_start(struct hf_sigcheck *c, struct hf_resolver *r, const struct hf_rrset *set,
		       const uint8_t *zone, const struct hf_rrset *keys, hf_sigcheck_cb cb, void *ctx)
{
	memset(c, 0, sizeof(*c));
	c->r = r;
	c->set = set;
	c->zone = zone;
	c->keys = keys;
	c->cb = cb;
	c->ctx = ctx;
	c->last_status = 1;  /* none pending */
	advance(c);
}

void hf_sigcheck_cancel(struct hf_sigcheck *c)
{
	if (c->waiting && !c->done)
		hf_verifier_cancel(c->r->verifier, c);
	c->done = true;
	c->waiting = false;
}
