/*
 * Development Stripe.js, served by the Stripe fake (stripe_fake.py) at /js.stripe.com/v3/.
 * The subset of Stripe.js v3 a card payment with manual capture uses: a card element,
 * createPaymentMethod, and handleNextAction / confirmCardPayment for a PaymentIntent's 3-D Secure
 * challenge. Real Stripe.js draws the card fields and the bank's page in iframes; here they are
 * plain labelled inputs and a dialog in the page, so a test drives them like any form. Styles are
 * set through the DOM (no <style> element), which a strict style-src allows.
 */
(function () {
  'use strict';
  var script = document.currentScript;
  var BASE = script && script.src ? script.src.replace(/\/js\.stripe\.com\/v3\/?$/, '') : '';
  var counter = 0;

  function post(path, fields) {
    // A form body and no custom header: a "simple" cross-origin request, no preflight needed.
    var body = new URLSearchParams();
    Object.keys(fields).forEach(function (name) { body.append(name, fields[name]); });
    return fetch(BASE + path, { method: 'POST', body: body }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (json) {
        if (!response.ok || json.error) {
          var error = json.error || {};
          return { error: { type: error.type || 'api_error', code: error.code, message: error.message || 'The payment service refused the request.' } };
        }
        return { ok: json };
      });
    }, function () {
      return { error: { type: 'api_connection_error', message: 'The payment service could not be reached.' } };
    });
  }

  function luhn(digits) {
    var sum = 0;
    for (var i = 0; i < digits.length; i += 1) {
      var d = Number(digits[digits.length - 1 - i]);
      if (i % 2 === 1) { d *= 2; if (d > 9) d -= 9; }
      sum += d;
    }
    return sum % 10 === 0;
  }

  function CardElement() {
    this.listeners = {};
    this.inputs = null;
    this.root = null;
  }

  CardElement.prototype.mount = function (target) {
    var container = typeof target === 'string' ? document.querySelector(target) : target;
    if (!container) throw new Error('Invalid DOM element: mount() needs an element or a selector.');
    var self = this;
    var id = 'tc-stripe-card-' + (counter += 1);
    var root = document.createElement('div');
    root.className = 'StripeElement tc-stripe-card';
    Object.assign(root.style, { display: 'flex', flexWrap: 'wrap', gap: '0.5rem' });
    var fields = [
      ['number', 'Card number', 'cc-number', '1234 1234 1234 1234', '12rem'],
      ['expiry', 'Expiry (MM / YY)', 'cc-exp', 'MM / YY', '6rem'],
      ['cvc', 'CVC', 'cc-csc', '123', '4rem'],
    ];
    this.inputs = {};
    fields.forEach(function (field) {
      var label = document.createElement('label');
      Object.assign(label.style, { display: 'flex', flexDirection: 'column', fontSize: '0.875rem' });
      label.htmlFor = id + '-' + field[0];
      label.textContent = field[1];
      var input = document.createElement('input');
      input.id = id + '-' + field[0];
      input.name = field[0];
      input.autocomplete = field[2];
      input.inputMode = 'numeric';
      input.placeholder = field[3];
      input.required = true;
      Object.assign(input.style, { width: field[4], font: 'inherit', padding: '0.4rem' });
      input.addEventListener('input', function () { self.emit('change', self.state()); });
      input.addEventListener('focus', function () { self.emit('focus', {}); });
      input.addEventListener('blur', function () { self.emit('blur', {}); });
      label.appendChild(input);
      root.appendChild(label);
      self.inputs[field[0]] = input;
    });
    container.appendChild(root);
    this.root = root;
    this.emit('ready', {});
  };

  CardElement.prototype.values = function () {
    var expiry = (this.inputs.expiry.value || '').replace(/\s/g, '').split('/');
    return {
      number: (this.inputs.number.value || '').replace(/[\s-]/g, ''),
      expMonth: expiry[0] || '',
      expYear: expiry[1] ? (expiry[1].length === 2 ? '20' + expiry[1] : expiry[1]) : '',
      cvc: (this.inputs.cvc.value || '').trim(),
    };
  };

  CardElement.prototype.problem = function () {
    var v = this.values();
    if (!/^\d{12,19}$/.test(v.number)) return { type: 'validation_error', code: 'incomplete_number', message: 'Your card number is incomplete.' };
    if (!luhn(v.number)) return { type: 'validation_error', code: 'invalid_number', message: 'Your card number is invalid.' };
    var month = Number(v.expMonth);
    if (!(month >= 1 && month <= 12) || !/^\d{4}$/.test(v.expYear)) return { type: 'validation_error', code: 'incomplete_expiry', message: "Your card's expiration date is incomplete." };
    var now = new Date();
    if (Number(v.expYear) * 12 + month < now.getFullYear() * 12 + now.getMonth() + 1) return { type: 'validation_error', code: 'invalid_expiry_year_past', message: "Your card's expiration year is in the past." };
    if (!/^\d{3,4}$/.test(v.cvc)) return { type: 'validation_error', code: 'incomplete_cvc', message: "Your card's security code is incomplete." };
    return null;
  };

  CardElement.prototype.state = function () {
    var v = this.values();
    var problem = this.problem();
    return { elementType: 'card', empty: !v.number && !v.expMonth && !v.cvc, complete: !problem, error: problem && v.number.length >= 12 ? problem : undefined };
  };

  CardElement.prototype.on = function (event, handler) {
    (this.listeners[event] = this.listeners[event] || []).push(handler);
    return this;
  };
  CardElement.prototype.off = function (event, handler) {
    this.listeners[event] = (this.listeners[event] || []).filter(function (h) { return h !== handler; });
    return this;
  };
  CardElement.prototype.emit = function (event, payload) {
    (this.listeners[event] || []).forEach(function (handler) { handler(payload); });
  };
  CardElement.prototype.focus = function () { if (this.inputs) this.inputs.number.focus(); };
  CardElement.prototype.clear = function () {
    var inputs = this.inputs;
    if (inputs) Object.keys(inputs).forEach(function (name) { inputs[name].value = ''; });
  };
  CardElement.prototype.unmount = function () {
    if (this.root) this.root.remove();
    this.root = null;
    this.inputs = null;
  };
  CardElement.prototype.destroy = CardElement.prototype.unmount;

  /** The bank's page, as a modal dialog: Stripe shows it in an iframe over the merchant's page. */
  function challenge() {
    return new Promise(function (resolve) {
      var previous = document.activeElement;
      var backdrop = document.createElement('div');
      Object.assign(backdrop.style, {
        position: 'fixed', inset: '0', background: 'rgba(0,0,0,0.55)', display: 'flex',
        alignItems: 'center', justifyContent: 'center', zIndex: '2147483647',
      });
      var dialog = document.createElement('div');
      dialog.setAttribute('role', 'dialog');
      dialog.setAttribute('aria-modal', 'true');
      dialog.setAttribute('aria-labelledby', 'tc-stripe-3ds-title');
      dialog.setAttribute('aria-describedby', 'tc-stripe-3ds-text');
      Object.assign(dialog.style, {
        background: '#ffffff', color: '#1a1a1a', padding: '1.25rem', borderRadius: '8px',
        maxWidth: '22rem', width: 'calc(100% - 2rem)', fontFamily: 'system-ui, sans-serif',
      });
      var title = document.createElement('h2');
      title.id = 'tc-stripe-3ds-title';
      title.textContent = '3-D Secure: confirm this payment';
      Object.assign(title.style, { fontSize: '1.125rem', margin: '0 0 0.5rem' });
      var text = document.createElement('p');
      text.id = 'tc-stripe-3ds-text';
      text.textContent = 'Your bank (a test bank in development) asks you to confirm this payment.';
      var buttons = document.createElement('div');
      Object.assign(buttons.style, { display: 'flex', gap: '0.5rem', flexWrap: 'wrap' });
      function button(label, colors, answer) {
        var b = document.createElement('button');
        b.type = 'button';
        b.textContent = label;
        Object.assign(b.style, { font: 'inherit', padding: '0.5rem 0.9rem', borderRadius: '6px', border: '1px solid #1a1a1a', background: colors[0], color: colors[1], cursor: 'pointer' });
        b.addEventListener('click', function () { close(answer); });
        buttons.appendChild(b);
        return b;
      }
      var confirm = button('Complete authentication', ['#0b5394', '#ffffff'], true);
      button('Fail authentication', ['#ffffff', '#1a1a1a'], false);
      function onKey(event) { if (event.key === 'Escape') close(false); }
      function close(answer) {
        document.removeEventListener('keydown', onKey);
        backdrop.remove();
        if (previous && previous.focus) previous.focus();
        resolve(answer);
      }
      document.addEventListener('keydown', onKey);
      dialog.appendChild(title);
      dialog.appendChild(text);
      dialog.appendChild(buttons);
      backdrop.appendChild(dialog);
      document.body.appendChild(backdrop);
      confirm.focus();
    });
  }

  window.Stripe = function Stripe(publishableKey) {
    if (typeof publishableKey !== 'string' || publishableKey.indexOf('pk_') !== 0) {
      throw new Error('Stripe(): a publishable key (pk_...) is required.');
    }

    function runChallenge(clientSecret) {
      var match = /^(pi_\w+?)_secret_\w+$/.exec(clientSecret || '');
      if (!match) return Promise.resolve({ error: { type: 'invalid_request_error', message: 'A PaymentIntent client secret is required.' } });
      return challenge().then(function (success) {
        return post('/v1/payment_intents/' + match[1] + '/_authenticate?success=' + success, { key: publishableKey, client_secret: clientSecret });
      }).then(function (result) {
        if (result.error) return { error: result.error };
        var intent = result.ok;
        if (intent.last_payment_error && intent.status === 'requires_payment_method') {
          return {
            paymentIntent: intent,
            error: { type: 'card_error', code: 'payment_intent_authentication_failure', message: 'We are unable to authenticate your payment method. Please choose a different payment method and try again.' },
          };
        }
        return { paymentIntent: intent };
      });
    }

    return {
      elements: function () {
        var created = null;
        return {
          create: function (type) {
            if (type !== 'card') throw new Error('This development Stripe.js offers the card element only.');
            created = new CardElement();
            return created;
          },
          getElement: function () { return created; },
        };
      },

      /** createPaymentMethod({ type: 'card', card, billing_details }) or the older ('card', element, data). */
      createPaymentMethod: function (options, element, data) {
        var params = typeof options === 'string' ? Object.assign({ type: options, card: element }, data) : options || {};
        if (params.type !== 'card' || !(params.card instanceof CardElement)) {
          return Promise.resolve({ error: { type: 'invalid_request_error', message: 'createPaymentMethod needs type "card" and a mounted card element.' } });
        }
        var problem = params.card.problem();
        if (problem) return Promise.resolve({ error: problem });
        var v = params.card.values();
        var fields = {
          key: publishableKey,
          type: 'card',
          'card[number]': v.number,
          'card[exp_month]': String(Number(v.expMonth)),
          'card[exp_year]': v.expYear,
          'card[cvc]': v.cvc,
        };
        var billing = params.billing_details || {};
        if (billing.name) fields['billing_details[name]'] = billing.name;
        if (billing.email) fields['billing_details[email]'] = billing.email;
        return post('/v1/payment_methods', fields).then(function (result) {
          return result.error ? { error: result.error } : { paymentMethod: result.ok };
        });
      },

      handleNextAction: function (options) {
        return runChallenge(options && options.clientSecret);
      },

      /** Here only for a PaymentIntent the server confirmed already and that waits for 3-D Secure. */
      confirmCardPayment: function (clientSecret) {
        return runChallenge(clientSecret);
      },
    };
  };
})();
