# mybnb's pages in English. Every message here is also in ko.ftl (a test checks).

skip-to-content = Skip to content
nav-label = Main
nav-search = Search
nav-trips = My trips
nav-host = Host
nav-inbox = Notifications
nav-login = Log in
nav-signup = Sign up
nav-logout = Log out

notice-logged-out = You are logged out.
notice-booked = Booked and paid. Your trip shows up below in a moment.
notice-cancelled = Cancelled. The refund is on its way.
notice-room-registered = Your room is listed.
notice-room-deleted = Your room is deleted; its upcoming bookings are cancelled and refunded.

refused-title = That did not work
refused-form = That form was incomplete. Go back and try again.
refused-forgery = This form has expired or did not come from mybnb. Go back, reload the page and try again.
refused-not-found = There is nothing here, or it has been deleted.
refused-generic = That cannot be done.
refused-language = That language is not available.
try-again-shortly = We could not finish that just now. Please try again shortly.
too-many-attempts = Too many attempts. Please wait a minute and try again.

field-username = Username
field-password = Password
field-display-name = Display name (optional)
field-words = Words
field-city = City
field-check-in = Check-in
field-check-out = Check-out
field-guests = Guests
field-min-price = Lowest price per night
field-max-price = Highest price per night
field-room-name = Room name
field-address = Address
field-price = Price per night (won)
field-capacity = Guests it sleeps
field-description = Description (optional)

error-date = Enter a date.
error-both-dates = Enter both dates, or neither.
error-check-out-after = Check-out must be after check-in.
error-guests = Enter a number of guests, 1 or more.
error-price = Enter a price in whole won.
error-page = Enter a page number.

signup-title = Sign up
signup-submit = Create my account
signup-taken = That username is taken. Choose another.
signup-invalid = Please check what you entered.
signup-have-account = Already have an account?
password-hint = At least 8 characters.

login-title = Log in
login-submit = Log in
login-failed = The username or password is wrong.
login-no-account = New to mybnb?

search-title = Find a place to stay
search-submit = Search
search-found = { $count ->
    [one] One room found
   *[other] { $count } rooms found
}
search-none = No room matches. Try fewer words, other dates or a wider price range.
pager-label = Pages
pager-previous = Previous
pager-next = Next
per-night = per night
sleeps = { $count ->
    [one] sleeps 1
   *[other] sleeps { $count }
}
nights = { $count ->
    [one] 1 night
   *[other] { $count } nights
}

room-price = Price
room-capacity = Guests
room-host = Host
calendar-title = Availability
calendar-month = { $month ->
    [1] January
    [2] February
    [3] March
    [4] April
    [5] May
    [6] June
    [7] July
    [8] August
    [9] September
    [10] October
    [11] November
   *[12] December
} { $year }
calendar-months = Months
calendar-earlier = Earlier months
calendar-later = Later months
calendar-free = free
calendar-taken = booked
calendar-past = past
day-sun = Sun
day-mon = Mon
day-tue = Tue
day-wed = Wed
day-thu = Thu
day-fri = Fri
day-sat = Sat

book-title = Book and pay
book-submit = Book and pay
book-log-in = Log in to book this room
book-taken = Some of those nights are already booked. Choose other dates.
book-declined = Your payment was declined. Nothing was booked.
book-invalid = That booking cannot be made.

trips-title = My trips
trips-none = No trips yet.
trips-eventually = New bookings and refunds show up here within a moment.
trips-cancel = Cancel this trip
trips-not-cancellable = This trip can no longer be cancelled.
status-paid = Booked · paid
status-confirmed = Booked · payment being confirmed
status-refund-pending = Cancelled · refund on its way
status-refunded = Cancelled · refunded
status-cancelled = Cancelled

host-title = Host dashboard
host-rooms = My rooms
host-no-rooms = You have no rooms listed yet.
host-bookings = Bookings of my rooms
host-no-bookings = No bookings yet.
host-register = List a new room
host-register-submit = List this room
host-delete = Delete
host-numbers = Enter the price and the guests as whole numbers.
host-invalid = Please check the room's details.
host-not-yours = Only the room's host can delete it.

inbox-title = Notifications
inbox-none = No notifications yet.
inbox-static = New notifications appear here when this page is reloaded.
inbox-live = Live: new notifications appear here as they happen.
inbox-reconnecting = Reconnecting…
kind-payment-approved = Payment approved
kind-payment-cancelled = Payment refunded
kind-booking-confirmed = New booking
kind-booking-cancelled = Booking cancelled
