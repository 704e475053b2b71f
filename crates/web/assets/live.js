// Live notifications: the inbox page works without this script; with it, each new notification
// is put at the top of the list as the server sends it, without reloading. Text only goes in
// through textContent, never as HTML.
(function () {
  "use strict";
  var list = document.getElementById("notifications");
  var status = document.getElementById("live-status");
  if (!list || !status || !window.EventSource) {
    return;
  }
  var kinds = {
    PAYMENT_APPROVED: list.dataset.paymentApproved,
    PAYMENT_CANCELLED: list.dataset.paymentCancelled,
    BOOKING_CONFIRMED: list.dataset.bookingConfirmed,
    BOOKING_CANCELLED: list.dataset.bookingCancelled
  };
  var source = new EventSource(list.dataset.stream);

  function show(event) {
    var item;
    try {
      item = JSON.parse(event.data);
    } catch (error) {
      return;
    }
    if (document.getElementById("n-" + item.id)) {
      return;
    }
    var entry = document.createElement("li");
    entry.id = "n-" + item.id;
    entry.className = "notification fresh";
    entry.dataset.type = item.type;
    var kind = document.createElement("strong");
    kind.textContent = kinds[item.type] || item.type;
    var when = document.createElement("time");
    when.dateTime = item.createdAt;
    when.textContent = new Date(item.createdAt).toLocaleDateString(document.documentElement.lang);
    var message = document.createElement("p");
    message.textContent = item.message;
    entry.appendChild(kind);
    entry.appendChild(document.createTextNode(" "));
    entry.appendChild(when);
    entry.appendChild(message);
    list.insertBefore(entry, list.firstChild);
    var none = document.getElementById("no-notifications");
    if (none) {
      none.remove();
    }
  }

  Object.keys(kinds).forEach(function (type) {
    source.addEventListener(type, show);
  });
  source.addEventListener("open", function () {
    status.textContent = status.dataset.connected;
    status.dataset.live = "true";
  });
  source.addEventListener("error", function () {
    status.textContent = status.dataset.disconnected;
    status.dataset.live = "false";
  });
})();
