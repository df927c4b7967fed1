// The most common passwords, lower-cased: the top of public breach-corpus lists (the UK NCSC's "100,000 most common
// passwords", SecLists' top lists) and their usual long forms (repeats, years, keyboard runs). A new staff password
// is refused if it is one of these, or one of these followed by digits and symbols (NIST SP 800-63B §3.1.1.2).
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set(`
123456 password 12345678 qwerty 123456789 12345 1234 111111 1234567 dragon 123123 baseball abc123 football monkey
letmein 696969 shadow master 666666 qwertyuiop 123321 mustang 1234567890 michael 654321 superman 1qaz2wsx 7777777
121212 000000 qazwsx 123qwe killer trustno1 jordan jennifer zxcvbnm asdfgh hunter buster soccer harley batman andrew
tigger sunshine iloveyou charlie robert thomas hockey ranger daniel starwars klaster 112233 george computer
michelle jessica pepper zxcvbn 555555 11111111 131313 freedom 777777 pass maggie 159753 aaaaaa ginger princess
joshua cheese amanda summer love ashley nicole chelsea biteme matthew access yankees 987654321 dallas austin thunder
taylor matrix welcome welcome1 password1 password123 passw0rd p@ssw0rd admin administrator root changeme
changeme123 secret letmein123 qwerty123 qwertyuiop123 iloveyou123 abcdefghijklmno abcdefghijklmnop abc123456789
1q2w3e4r5t 1q2w3e4r5t6y 1q2w3e4r5t6y7u 1qaz2wsx3edc 1qaz2wsx3edc4rfv zaq12wsx qazwsxedc qazwsxedcrfv
qwertyuiopasdfg qwertyuiopasdfgh asdfghjkl zxcvbnm123 123456789012345 1234567890123456 12345678901234567890
000000000000000 111111111111111 123123123123123 password1234567 passwordpassword correcthorsebatterystaple
trustno1trustno1 iloveyouiloveyou letmeinletmein administrator1 administrator123 qwertyqwertyqwerty
football123456 baseball123456 superman123456 princess123456 sunshine123456 monkey123456789 dragon123456789
passwordpassword1 mypasswordisstrong thisismypassword mypassword123456 newpassword123456 changemechangeme
temporarypassword temppassword123 default123456789 guest123456789 summer2024summer winter2024winter
password2024 password2025 password2026 welcome2024 welcome2025 welcome2026 newsletter12345 mailinglist12345
`.split(/\s+/).filter(Boolean).concat(['correct horse battery staple']))
