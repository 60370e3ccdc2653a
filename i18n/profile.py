"""Strings of the profile page (name, password, signed-in browsers, Microsoft), pt-BR and en."""

from __future__ import annotations

PT = {
    "profile.title": "Perfil",
    "profile.account": "Sua conta",
    "profile.email": "E-mail",
    "profile.email_verified": "Confirmado",
    "profile.email_unverified": "Não confirmado",
    "profile.name.save": "Salvar nome",
    "profile.name.hint": "É o nome que a equipe de suporte vê nos seus chamados.",
    "profile.language": "Idioma das páginas",
    "profile.save": "Salvar",
    "profile.saved.locale": "Idioma salvo.",
    "profile.saved.name": "Nome salvo.",
    "profile.saved.password": (
        "Senha trocada. Por segurança, encerramos as sessões em todos os outros navegadores."
    ),
    "profile.saved.everywhere": (
        "Pronto: você saiu de todos os outros navegadores. Este continua conectado."
    ),
    "profile.saved.session": "Sessão encerrada.",
    "profile.saved.unlinked": "Conta Microsoft desligada. Entre com seu e-mail e senha.",
    "profile.password": "Senha",
    "profile.password.intro": (
        "Para trocar a senha, informe a atual. Ao trocar, os outros navegadores saem da conta."
    ),
    "profile.password.none": ("Você entra pela Microsoft: esta conta não tem senha para trocar."),
    "profile.password.submit": "Trocar senha",
    "field.current_password": "Senha atual",
    "field.new_password": "Nova senha",
    "err.current_password.required": "Informe sua senha atual.",
    "err.current_password.wrong": "A senha atual não confere.",
    "err.current_password.throttled": (
        "Muitas tentativas com a senha atual. Aguarde alguns minutos e tente de novo."
    ),
    "err.current_password.none": "Esta conta não tem senha: você entra pela Microsoft.",
    "err.new_password.required": "Informe a nova senha.",
    "err.new_password.too_short": "A senha precisa ter pelo menos 10 caracteres.",
    "err.new_password.too_long": "A senha pode ter no máximo 1.024 caracteres.",
    "err.new_password.weak": "Escolha uma senha que não repita um só caractere.",
    "err.new_password.common": "Essa senha é uma das mais usadas em vazamentos; escolha outra.",
    "profile.sessions": "Onde você está conectado",
    "profile.sessions.intro": (
        "Navegadores com sessão aberta na sua conta. Não reconhece algum? Encerre a sessão "
        "dele e troque sua senha."
    ),
    "profile.sessions.intro_no_password": (
        "Navegadores com sessão aberta na sua conta. Não reconhece algum? Encerre a sessão dele."
    ),
    "profile.sessions.unknown_device": "Navegador desconhecido",
    "profile.sessions.this": "Este navegador",
    "profile.sessions.last_seen": "Último uso",
    "profile.sessions.created": "Entrou em",
    "profile.sessions.end": "Encerrar sessão",
    "profile.sessions.end_named": "Encerrar sessão: {device}",
    "profile.sessions.everywhere": "Sair de todos os outros navegadores",
    "profile.sessions.everywhere_hint": (
        "Encerra todas as sessões da conta, inclusive as esquecidas em outros computadores; "
        "este navegador continua conectado com uma sessão nova."
    ),
    "profile.microsoft": "Conta Microsoft",
    "profile.microsoft.linked": "Sua conta está ligada à Microsoft.",
    "profile.microsoft.not_linked": (
        "Ligue sua conta Microsoft para entrar com ela e ver aqui os chamados abertos pelo Teams."
    ),
    "profile.microsoft.link": "Ligar conta Microsoft",
    "profile.microsoft.unlink": "Desligar conta Microsoft",
    "profile.microsoft.unlink_hint": (
        "Depois de desligar, você entra só com e-mail e senha, e as mensagens do Teams não "
        "chegam mais a esta conta."
    ),
    "profile.microsoft.only_way": (
        "A Microsoft é a única forma de entrar nesta conta, por isso ela não pode ser desligada."
    ),
    "err.microsoft.last_way": (
        "Não dá para desligar: a Microsoft é a única forma de entrar nesta conta."
    ),
    "profile.microsoft.done": "Conta Microsoft ligada.",
    "profile.microsoft.taken": "Esta conta Microsoft já está ligada a outro usuário.",
    "profile.microsoft.other": "Sua conta já está ligada a outra conta Microsoft.",
}

EN = {
    "profile.title": "Profile",
    "profile.account": "Your account",
    "profile.email": "E-mail",
    "profile.email_verified": "Confirmed",
    "profile.email_unverified": "Not confirmed",
    "profile.name.save": "Save name",
    "profile.name.hint": "The name the support team sees on your tickets.",
    "profile.language": "Page language",
    "profile.save": "Save",
    "profile.saved.locale": "Language saved.",
    "profile.saved.name": "Name saved.",
    "profile.saved.password": ("Password changed. To be safe, every other browser was signed out."),
    "profile.saved.everywhere": (
        "Done: every other browser is signed out. This one stays signed in."
    ),
    "profile.saved.session": "Session ended.",
    "profile.saved.unlinked": "Microsoft account unlinked. Sign in with your e-mail and password.",
    "profile.password": "Password",
    "profile.password.intro": (
        "To change your password, enter the current one. Other browsers are signed out."
    ),
    "profile.password.none": "You sign in with Microsoft: this account has no password to change.",
    "profile.password.submit": "Change password",
    "field.current_password": "Current password",
    "field.new_password": "New password",
    "err.current_password.required": "Enter your current password.",
    "err.current_password.wrong": "The current password is not right.",
    "err.current_password.throttled": (
        "Too many tries with the current password. Wait a few minutes and try again."
    ),
    "err.current_password.none": "This account has no password: you sign in with Microsoft.",
    "err.new_password.required": "Enter the new password.",
    "err.new_password.too_short": "The password needs at least 10 characters.",
    "err.new_password.too_long": "The password can have at most 1,024 characters.",
    "err.new_password.weak": "Choose a password that is not one character repeated.",
    "err.new_password.common": "This password is one of the most used in leaks; choose another.",
    "profile.sessions": "Where you are signed in",
    "profile.sessions.intro": (
        "Browsers with an open session on your account. Don't recognise one? End its session "
        "and change your password."
    ),
    "profile.sessions.intro_no_password": (
        "Browsers with an open session on your account. Don't recognise one? End its session."
    ),
    "profile.sessions.unknown_device": "Unknown browser",
    "profile.sessions.this": "This browser",
    "profile.sessions.last_seen": "Last used",
    "profile.sessions.created": "Signed in",
    "profile.sessions.end": "End session",
    "profile.sessions.end_named": "End session: {device}",
    "profile.sessions.everywhere": "Sign out every other browser",
    "profile.sessions.everywhere_hint": (
        "Ends every session of the account, including ones left open on other computers; "
        "this browser stays signed in with a new session."
    ),
    "profile.microsoft": "Microsoft account",
    "profile.microsoft.linked": "Your account is linked to Microsoft.",
    "profile.microsoft.not_linked": (
        "Link your Microsoft account to sign in with it and see tickets opened from Teams here."
    ),
    "profile.microsoft.link": "Link Microsoft account",
    "profile.microsoft.unlink": "Unlink Microsoft account",
    "profile.microsoft.unlink_hint": (
        "Once unlinked, you sign in with e-mail and password only, and Teams messages no "
        "longer reach this account."
    ),
    "profile.microsoft.only_way": (
        "Microsoft is the only way to sign in to this account, so it cannot be unlinked."
    ),
    "err.microsoft.last_way": (
        "It cannot be unlinked: Microsoft is the only way to sign in to this account."
    ),
    "profile.microsoft.done": "Microsoft account linked.",
    "profile.microsoft.taken": "This Microsoft account is already linked to another user.",
    "profile.microsoft.other": "Your account is already linked to another Microsoft account.",
}
