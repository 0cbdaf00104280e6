"""Runs localstripe with Stripe's idempotency semantics and a request log.

localstripe ignores the Idempotency-Key header, so a retried PaymentIntent
create would make a second PaymentIntent there while real Stripe returns the
first one; the booking saga's retries must be tested against the real rules.

    .tools/venv/bin/python dev/stripe/stripe_fake.py --port 8420 [--store FILE] [--from-scratch]

Test hooks (no auth): GET /_tc/requests lists every request seen as
{method, path, idempotencyKey, status, replayed, lostResponse}; DELETE /_tc/requests
clears it. POST /_tc/lost-responses {keyPrefix, count} makes the next `count`
POSTs whose Idempotency-Key starts with keyPrefix take effect but answer 503
(a response lost on the way back); DELETE clears those faults.
A PaymentIntent confirmed with the PaymentMethod `pm_card_processing` stays
`processing` (its charge pending, as while a bank has not answered yet) until
POST /_tc/settle {paymentIntent} authorizes it: Stripe has no test card that
does this, and the booking saga must not ticket while a payment is processing.

Browsers: /js.stripe.com/v3/ serves a development Stripe.js (stripe.js beside
this file) whose card element, createPaymentMethod and handleNextAction /
confirmCardPayment work against this fake. A publishable key (pk_..., as
`Authorization: Bearer` or a `key` field) is accepted where Stripe accepts one
(creating PaymentMethods, tokens and sources, a PaymentIntent's 3-D Secure
challenge with its client secret) and refused everywhere else. A refused
challenge sends payment_intent.payment_failed, as Stripe does.
"""

import argparse
import os
import pickle
import re
import asyncio
import collections
import json
import logging
import socket
import time

from aiohttp import web
from localstripe.errors import UserError
from localstripe.resources import Charge, Event, PaymentIntent, PaymentMethod, store
from localstripe import webhooks
from localstripe.webhooks import schedule_webhook
from localstripe import server as localstripe_server
from localstripe.server import app, get_post_data

# Stripe declines 4000000000000002 (pm_card_visa_chargeDeclined) when it is
# charged; localstripe only declines it when attached to a customer. Match Stripe.
_STRIPE_CHARGE_DECLINES = ('4000000000000002',)
_localstripe_charging_is_declined = PaymentMethod._charging_is_declined


def _charging_is_declined(self):
    if self.type == 'card' and self._card_number in _STRIPE_CHARGE_DECLINES:
        return True
    return _localstripe_charging_is_declined(self)


PaymentMethod._charging_is_declined = _charging_is_declined


# localstripe delivers an event by iterating over the registered webhooks, awaiting each POST; a
# test stack registering its webhook meanwhile ("dictionary changed size during iteration") ends
# that delivery for every stack after it. Deliver to the webhooks registered when it began.
class _WebhookRegistry(dict):
    def values(self):
        return list(super().values())


webhooks._webhooks = _WebhookRegistry(webhooks._webhooks)

# Stripe tells a manual-capture integration that the money is authorized with
# payment_intent.amount_capturable_updated (after 3-D Secure, for instance);
# localstripe sends nothing until capture. Send it as Stripe does.
_localstripe_create_charge = PaymentIntent._create_charge


def _create_charge(self, on_failure_now):
    if self.payment_method == PROCESSING_PAYMENT_METHOD:
        _leave_processing(self)
        return
    _localstripe_create_charge(self, on_failure_now)
    if self.status == 'requires_capture':
        schedule_webhook(Event('payment_intent.amount_capturable_updated', self))


PaymentIntent._create_charge = _create_charge

# Stripe (API 2023-08-16 and later) gives a PaymentIntent that does not name its payment method
# types the payment methods enabled in the Dashboard, some of which redirect, and refuses to confirm
# it without a return_url. localstripe knows none of this, so an integration that forgot it passed
# every test here and failed every payment at Stripe. Match Stripe at the API version our SDK pins
# (2026-10-28): `allowed_payment_method_types` names them (`payment_method_types` is gone and refused
# as unknown), `automatic_payment_methods[allow_redirects]=never` rules out redirects; only such a
# PaymentIntent confirms without a return_url.
_STRIPE_RETURN_URL_REQUIRED = (
    'This PaymentIntent is configured to accept payment methods enabled in your Dashboard. Because '
    'some of these payment methods might redirect your customer off of your website, you must '
    'provide a `return_url`. If you do not want to accept redirect-based payment methods, set '
    '`automatic_payment_methods[enabled]` to `true` and `automatic_payment_methods[allow_redirects]` '
    'to `never` when creating Setup Intents and Payment Intents.')
_localstripe_intent_init = PaymentIntent.__init__
_localstripe_confirm = PaymentIntent._confirm


def _intent_init(self, *args, payment_method_types=None, allowed_payment_method_types=None,
                 automatic_payment_methods=None, **kwargs):
    if payment_method_types is not None:
        raise UserError(400, 'Received unknown parameter: payment_method_types')
    automatic = automatic_payment_methods or {}
    _localstripe_intent_init(self, *args, payment_method_types=allowed_payment_method_types, **kwargs)
    self._tc_confirms_without_return_url = (
        allowed_payment_method_types is not None or automatic.get('allow_redirects') == 'never')


def _confirm_needs_return_url(self, on_failure_now):
    # Invoices and subscriptions confirm their own PaymentIntents inside localstripe: cards only.
    if not getattr(self, '_tc_confirms_without_return_url', False) and self.invoice is None:
        raise UserError(400, _STRIPE_RETURN_URL_REQUIRED)
    return _localstripe_confirm(self, on_failure_now)


PaymentIntent.__init__ = _intent_init
PaymentIntent._confirm = _confirm_needs_return_url

# Test hook (see the module docstring): `pm_card_processing` is a Visa card
# whose charge localstripe creates but leaves pending, so its PaymentIntent
# reads `processing`; settle() later authorizes it as the bank would.
PROCESSING_PAYMENT_METHOD = 'pm_card_processing'
_localstripe_test_article = PaymentMethod._try_get_canonical_test_article


def _try_get_canonical_test_article(cls, id):
    if id == PROCESSING_PAYMENT_METHOD:
        return PaymentMethod(type='card', card=dict(number='4242424242424242', exp_month='12',
                                                    exp_year='2030', cvc='123'))
    return _localstripe_test_article(id)


PaymentMethod._try_get_canonical_test_article = classmethod(_try_get_canonical_test_article)


def _leave_processing(intent):
    if intent.status != 'requires_confirmation':
        raise UserError(400, 'Bad request')
    charge = Charge(amount=intent.amount, currency=intent.currency, customer=intent.customer,
                    source=intent.payment_method, capture=(intent.capture_method != 'manual'))
    charge.payment_intent = intent.id
    intent.latest_charge = charge  # left 'pending': the intent reads 'processing'


async def settle_hook(request):
    if request.method != 'POST':
        return stripe_error(405, 'Method not allowed', 'invalid_request_error')
    data = await request.json()
    if not isinstance(data.get('paymentIntent'), str):
        return stripe_error(400, 'paymentIntent (string) is required', 'invalid_request_error')
    try:
        intent = PaymentIntent._api_retrieve(data['paymentIntent'])
    except UserError:
        return stripe_error(404, 'No such PaymentIntent', 'invalid_request_error')
    if intent.status != 'processing':
        return stripe_error(400, f'The PaymentIntent is {intent.status}, not processing',
                            'invalid_request_error')
    intent.latest_charge._initialize_charge(intent._on_success, intent._report_async_failure,
                                            intent._report_async_failure)
    if intent.status == 'requires_capture':
        schedule_webhook(Event('payment_intent.amount_capturable_updated', intent))
    return web.json_response({'id': intent.id, 'status': intent.status})

# Stripe.js for browsers in development: localstripe's createPaymentMethod does nothing.
STRIPE_JS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'stripe.js')
STRIPE_JS_PATHS = ('/js.stripe.com/v3/', '/js.stripe.com/v3')


def serve_stripe_js():
    with open(STRIPE_JS_FILE, 'rb') as f:
        body = f.read()
    return web.Response(body=body, content_type='application/javascript', charset='utf-8',
                        headers={'Cache-Control': 'no-cache'})


# What Stripe lets a publishable key do; localstripe accepts a `key=pk_...` field for some of
# these and no publishable key at all for PaymentMethods, which is how browsers make them.
PUBLISHABLE_KEY_ROUTES = (
    ('POST', re.compile(r'^/v1/payment_methods$')),
    ('POST', re.compile(r'^/v1/tokens$')),
    ('POST', re.compile(r'^/v1/sources$')),
    ('POST', re.compile(r'^/v1/payment_intents/\w+/_authenticate$')),
    ('POST', re.compile(r'^/v1/setup_intents/\w+/(confirm|cancel)$')),
)
AUTHENTICATE_PATH = re.compile(r'^/v1/payment_intents/(\w+)/_authenticate$')
PUBLISHABLE = 'tc_publishable_key'
_localstripe_get_api_key = localstripe_server.get_api_key


def _get_api_key(request):
    # Our middleware has vetted the publishable key for this route: localstripe sees a caller.
    if request.get(PUBLISHABLE):
        return 'sk_publishable_key_caller'
    return _localstripe_get_api_key(request)


localstripe_server.get_api_key = _get_api_key


async def publishable_key_of(request):
    header = request.headers.get('Authorization', '').split(' ')
    if len(header) == 2 and header[0] == 'Bearer' and header[1].startswith('pk_'):
        return header[1]
    if len(header) == 2:
        return None  # a secret key (or something localstripe will refuse)
    if request.method != 'POST':
        return None
    data = await get_post_data(request, remove_auth=False)
    key = data.get('key') if isinstance(data, dict) else None
    return key if isinstance(key, str) and key.startswith('pk_') and len(key) > 3 else None


async def check_publishable_key(request):
    """None when the request may go on; a 401 when a publishable key asks for what it may not."""
    if await publishable_key_of(request) is None:
        return None
    if any(request.method == m and pattern.match(request.path) for m, pattern in PUBLISHABLE_KEY_ROUTES):
        request[PUBLISHABLE] = True
        return None
    return stripe_error(401, 'This API call cannot be made with a publishable API key. '
                             'Please use a secret API key.', 'invalid_request_error')


def report_refused_challenge(request, response):
    match = AUTHENTICATE_PATH.match(request.path)
    if not match or response.status != 200:
        return
    try:
        intent = PaymentIntent._api_retrieve(match.group(1))
    except UserError:
        return
    if intent._authentication_failed:
        schedule_webhook(Event('payment_intent.payment_failed', intent))


# localstripe keeps its state in /tmp/localstripe.pickle, shared by every checkout
# on the machine, and rewrites the whole file in place on every change: a process
# killed mid-write leaves a file it cannot load, and loading calls __setitem__ once
# per object, each rewriting the file (start-up grew to 20 s on a 1 MB store).
# Here the file is ours (--store), loaded without writes, and saved by rename,
# coalescing the writes of one burst of changes; SIGTERM/SIGINT flush it.
SAVE_DELAY_SECONDS = 0.05
store_file = '/tmp/localstripe.pickle'
_loading = False
_save_pending = None


def _save_now():
    global _save_pending
    _save_pending = None
    tmp = f'{store_file}.{os.getpid()}.tmp'
    with open(tmp, 'wb') as f:
        pickle.dump(dict(store), f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, store_file)


def _dump_to_disk_coalesced(self):
    global _save_pending
    if _loading or _save_pending is not None:
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # no server yet: save at once
        _save_now()
        return
    _save_pending = loop.call_later(SAVE_DELAY_SECONDS, _save_now)


def _load_from_disk(self):
    global _loading
    _loading = True
    try:
        with open(store_file, 'rb') as f:
            saved = pickle.load(f)
        self.clear()
        dict.update(self, saved)
    except FileNotFoundError:
        pass
    finally:
        _loading = False


type(store).dump_to_disk = _dump_to_disk_coalesced
type(store).try_load_from_disk = _load_from_disk

TTL_SECONDS = 24 * 60 * 60  # Stripe keeps idempotency results for 24 hours.
MAX_LOGGED_REQUESTS = 5000
MAX_CACHED_KEYS = 50_000

ERROR_PARAMS = ('Keys for idempotent requests can only be used with the same '
                'parameters they were first used with.')
ERROR_ENDPOINT = ('Keys for idempotent requests can only be used for the same '
                  'endpoint they were first used for.')
ERROR_IN_FLIGHT = ('There is currently another in-progress request using this '
                   'Idempotent Key (that probably means you submitted twice, and '
                   'the other request is still going through).')


class Entry:
    __slots__ = ('method', 'path', 'body', 'created', 'status', 'content_type',
                 'payload', 'done')

    def __init__(self, method, path, body):
        self.method, self.path, self.body = method, path, body
        self.created = time.monotonic()
        self.status, self.content_type, self.payload = 0, None, b''
        self.done = asyncio.Event()


cache = collections.OrderedDict()  # idempotency key -> Entry, oldest first
requests_seen = collections.deque(maxlen=MAX_LOGGED_REQUESTS)
# Injected "lost responses": the request takes effect, the client sees a 503,
# as when a connection drops after Stripe acted. Each: {keyPrefix, count}.
lost_responses = []


def stripe_error(status, message, type_='idempotency_error'):
    body = {'error': {'type': type_, 'message': message}}
    return web.json_response(body, status=status)


def expire_old_entries():
    now = time.monotonic()
    while cache:
        key, entry = next(iter(cache.items()))
        if now - entry.created < TTL_SECONDS and len(cache) <= MAX_CACHED_KEYS:
            break
        cache.pop(key)


def log_request(request, key, status, replayed, lost=False):
    requests_seen.append({'method': request.method, 'path': request.path,
                          'idempotencyKey': key, 'status': status,
                          'replayed': replayed, 'lostResponse': lost})


def take_lost_response(key):
    for fault in lost_responses:
        if fault['count'] > 0 and key.startswith(fault['keyPrefix']):
            fault['count'] -= 1
            return True
    return False


async def fault_hooks(request):
    if request.method == 'POST':
        data = await request.json()
        if not isinstance(data.get('keyPrefix'), str) or not isinstance(data.get('count'), int):
            return stripe_error(400, 'keyPrefix (string) and count (int) are required',
                                'invalid_request_error')
        lost_responses.append({'keyPrefix': data['keyPrefix'], 'count': data['count']})
        return web.json_response(lost_responses)
    if request.method == 'DELETE':
        lost_responses.clear()
        return web.Response(status=204)
    return stripe_error(405, 'Method not allowed', 'invalid_request_error')


def test_hooks(request):
    if request.method == 'GET':
        return web.json_response(list(requests_seen))
    if request.method == 'DELETE':
        requests_seen.clear()
        return web.Response(status=204)
    return stripe_error(405, 'Method not allowed', 'invalid_request_error')


@web.middleware
async def idempotency_middleware(request, handler):
    if request.path == '/_tc/requests':
        return test_hooks(request)
    if request.path == '/_tc/lost-responses':
        return await fault_hooks(request)
    if request.path == '/_tc/settle':
        return await settle_hook(request)
    if request.path in STRIPE_JS_PATHS and request.method == 'GET':
        return serve_stripe_js()
    refused = await check_publishable_key(request)
    if refused is not None:
        log_request(request, request.headers.get('Idempotency-Key'), refused.status, False)
        return refused

    key = request.headers.get('Idempotency-Key') or None
    # Stripe ignores the header on GET and DELETE, which are idempotent anyway.
    if request.method != 'POST' or key is None:
        try:
            response = await handler(request)
        except web.HTTPException as e:
            log_request(request, key, e.status, False)
            raise
        report_refused_challenge(request, response)
        log_request(request, key, response.status, False)
        return response

    body = await request.read()  # aiohttp caches it, so the handler can read it again
    expire_old_entries()
    entry = cache.get(key)
    if entry is not None:
        if (entry.method, entry.path) != (request.method, request.path):
            response = stripe_error(400, ERROR_ENDPOINT)
        elif entry.body != body:
            response = stripe_error(400, ERROR_PARAMS)
        elif not entry.done.is_set():
            response = stripe_error(409, ERROR_IN_FLIGHT)
        else:
            response = web.Response(status=entry.status, body=entry.payload,
                                    content_type=entry.content_type)
            response.headers['Idempotent-Replayed'] = 'true'
            response.headers['Idempotency-Key'] = key
            log_request(request, key, entry.status, True)
            return response
        log_request(request, key, response.status, False)
        return response

    entry = cache[key] = Entry(request.method, request.path, body)
    try:
        response = await handler(request)
    except BaseException as e:
        # No result to replay: let the client retry with the same key.
        cache.pop(key, None)
        entry.done.set()
        log_request(request, key, getattr(e, 'status', 500), False)
        raise

    payload = getattr(response, 'body', None)
    # Stripe saves no result when the request never reached the endpoint
    # (authentication failed); a streamed body cannot be replayed either.
    if response.status == 401 or not isinstance(payload, (bytes, bytearray)):
        cache.pop(key, None)
    else:
        entry.status, entry.payload = response.status, bytes(payload)
        entry.content_type = response.content_type
    entry.done.set()
    report_refused_challenge(request, response)
    if take_lost_response(key):
        log_request(request, key, response.status, False, lost=True)
        return stripe_error(503, 'The response was lost (injected fault).', 'api_error')
    response.headers['Idempotency-Key'] = key
    log_request(request, key, response.status, False)
    return response


def main():
    global store_file
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--port', type=int, default=8420)
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--store', default=store_file,
                        help='file that keeps the fake\'s state across restarts')
    parser.add_argument('--from-scratch', action='store_true',
                        help='ignore the saved store')
    parser.add_argument('--log-requests', type=int, default=MAX_LOGGED_REQUESTS,
                        help='how many requests /_tc/requests keeps (the newest)')
    args = parser.parse_args()
    store_file = args.store
    global requests_seen
    requests_seen = collections.deque(maxlen=args.log_requests)

    if not args.from_scratch:
        try:
            store.try_load_from_disk()
        except Exception as e:  # a file cut short by a kill must not stop the fake from starting
            os.replace(store_file, store_file + '.corrupt')
            print(f'localstripe: saved state unreadable ({e}); moved to {store_file}.corrupt, starting empty',
                  flush=True)

    # Outermost, so replays skip localstripe entirely and /_tc skips its auth.
    app.middlewares.insert(0, idempotency_middleware)

    family = socket.AF_INET6 if ':' in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))

    logger = logging.getLogger('aiohttp.access')
    logger.setLevel(logging.DEBUG)
    logger.addHandler(logging.StreamHandler())

    print(f'localstripe (idempotent shim) on http://{args.host}:{args.port}',
          flush=True)
    async def flush_pending_save(_app):
        if _save_pending is not None:
            _save_pending.cancel()
            _save_now()

    app.on_shutdown.append(flush_pending_save)
    web.run_app(app, sock=sock, access_log=logger, print=None)


if __name__ == '__main__':
    main()
