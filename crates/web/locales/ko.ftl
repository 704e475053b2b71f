# mybnb 페이지의 한국어 문구. en.ftl의 모든 메시지가 여기에도 있습니다(테스트가 확인).

skip-to-content = 본문으로 건너뛰기
nav-label = 주 메뉴
nav-search = 숙소 찾기
nav-trips = 내 여행
nav-host = 호스트
nav-inbox = 알림
nav-login = 로그인
nav-signup = 회원가입
nav-logout = 로그아웃

notice-logged-out = 로그아웃했습니다.
notice-booked = 예약과 결제가 완료되었습니다. 잠시 후 아래에 여행이 표시됩니다.
notice-cancelled = 취소했습니다. 환불이 진행 중입니다.
notice-room-registered = 숙소를 등록했습니다.
notice-room-deleted = 숙소를 삭제했습니다. 예정된 예약은 취소되고 환불됩니다.

refused-title = 처리하지 못했습니다
refused-form = 양식이 완전하지 않습니다. 돌아가서 다시 시도해 주세요.
refused-forgery = 양식이 만료되었거나 mybnb에서 온 것이 아닙니다. 돌아가서 페이지를 새로 고친 뒤 다시 시도해 주세요.
refused-not-found = 찾는 내용이 없거나 삭제되었습니다.
refused-generic = 그렇게 할 수 없습니다.
refused-language = 지원하지 않는 언어입니다.
try-again-shortly = 지금은 처리하지 못했습니다. 잠시 후 다시 시도해 주세요.
too-many-attempts = 시도가 너무 많습니다. 1분 뒤에 다시 시도해 주세요.

field-username = 아이디
field-password = 비밀번호
field-display-name = 표시 이름 (선택)
field-words = 검색어
field-city = 도시
field-check-in = 체크인
field-check-out = 체크아웃
field-guests = 인원
field-min-price = 1박 최저 가격
field-max-price = 1박 최고 가격
field-room-name = 숙소 이름
field-address = 주소
field-price = 1박 가격 (원)
field-capacity = 최대 인원
field-description = 설명 (선택)

error-date = 날짜를 입력해 주세요.
error-both-dates = 두 날짜를 모두 입력하거나 모두 비워 두세요.
error-check-out-after = 체크아웃은 체크인보다 뒤여야 합니다.
error-guests = 인원을 1 이상의 숫자로 입력해 주세요.
error-price = 가격을 원 단위 숫자로 입력해 주세요.
error-page = 페이지 번호를 입력해 주세요.

signup-title = 회원가입
signup-submit = 계정 만들기
signup-taken = 이미 사용 중인 아이디입니다. 다른 아이디를 골라 주세요.
signup-invalid = 입력한 내용을 확인해 주세요.
signup-have-account = 이미 계정이 있나요?
password-hint = 8자 이상.

login-title = 로그인
login-submit = 로그인
login-failed = 아이디 또는 비밀번호가 틀렸습니다.
login-no-account = mybnb가 처음이신가요?

search-title = 머물 곳 찾기
search-submit = 검색
search-found = 숙소 { $count }곳
search-none = 조건에 맞는 숙소가 없습니다. 검색어를 줄이거나 날짜나 가격 범위를 바꿔 보세요.
pager-label = 페이지
pager-previous = 이전
pager-next = 다음
per-night = / 1박
sleeps = 최대 { $count }명
nights = { $count }박

room-price = 가격
room-capacity = 인원
room-host = 호스트
calendar-title = 예약 가능 날짜
calendar-month = { $year }년 { $month }월
calendar-months = 달
calendar-earlier = 이전 달
calendar-later = 다음 달
calendar-free = 예약 가능
calendar-taken = 예약됨
calendar-past = 지난 날짜
day-sun = 일
day-mon = 월
day-tue = 화
day-wed = 수
day-thu = 목
day-fri = 금
day-sat = 토

book-title = 예약 및 결제
book-submit = 예약하고 결제하기
book-log-in = 로그인하고 이 숙소 예약하기
book-taken = 이미 예약된 날짜가 있습니다. 다른 날짜를 골라 주세요.
book-declined = 결제가 거절되었습니다. 예약되지 않았습니다.
book-invalid = 예약할 수 없습니다.

trips-title = 내 여행
trips-none = 아직 여행이 없습니다.
trips-eventually = 새 예약과 환불은 잠시 후 여기에 표시됩니다.
trips-cancel = 이 여행 취소하기
trips-not-cancellable = 이 여행은 더 이상 취소할 수 없습니다.
status-paid = 예약됨 · 결제 완료
status-confirmed = 예약됨 · 결제 확인 중
status-refund-pending = 취소됨 · 환불 진행 중
status-refunded = 취소됨 · 환불 완료
status-cancelled = 취소됨

host-title = 호스트 대시보드
host-rooms = 내 숙소
host-no-rooms = 아직 등록한 숙소가 없습니다.
host-bookings = 내 숙소의 예약
host-no-bookings = 아직 예약이 없습니다.
host-register = 새 숙소 등록
host-register-submit = 숙소 등록하기
host-delete = 삭제
host-numbers = 가격과 인원을 숫자로 입력해 주세요.
host-invalid = 숙소 정보를 확인해 주세요.
host-not-yours = 숙소의 호스트만 삭제할 수 있습니다.

inbox-title = 알림
inbox-none = 아직 알림이 없습니다.
inbox-static = 새 알림은 페이지를 새로 고치면 표시됩니다.
inbox-live = 실시간: 새 알림이 생기는 즉시 여기에 표시됩니다.
inbox-reconnecting = 다시 연결하는 중…
kind-payment-approved = 결제 승인
kind-payment-cancelled = 결제 환불
kind-booking-confirmed = 새 예약
kind-booking-cancelled = 예약 취소
