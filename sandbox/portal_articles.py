"""The sandbox portal's default articles: everyday IT questions, in pt-BR and English."""

from __future__ import annotations

from typing import Final

# (locale, title, description, content in Markdown)
DEFAULT_ARTICLES: Final[tuple[tuple[str, str, str, str], ...]] = (
    (
        "pt_BR",
        "Como conectar à VPN da empresa",
        "Acesso remoto pela VPN: instalação, conexão e quedas frequentes.",
        "Para acessar os sistemas internos fora do escritório, use a VPN corporativa. "
        "Abra o aplicativo GlobalProtect, informe o portal vpn.empresa.com.br e entre com seu "
        "usuário e senha de rede. Se a VPN cai a cada poucos minutos, troque para a rede cabeada "
        "ou para o Wi-Fi de 5 GHz, desative outras VPNs e atualize o aplicativo para a versão "
        "mais recente. Se a mensagem for de senha expirada, redefina a senha antes de conectar.",
    ),
    (
        "pt_BR",
        "Redefinir a senha de rede",
        "Esqueceu a senha ou ela expirou? Troque sozinho pelo portal.",
        "A senha de rede vale para o computador, o e-mail e a VPN. Para redefinir, acesse "
        "senha.empresa.com.br, informe seu e-mail corporativo e confirme o código enviado ao seu "
        "celular cadastrado. A nova senha precisa ter pelo menos 12 caracteres e não pode repetir "
        "as últimas cinco. Depois da troca, atualize a senha também no celular e no Outlook.",
    ),
    (
        "pt_BR",
        "Impressora não imprime: o que verificar",
        "Fila travada, papel atolado ou impressora offline.",
        "Antes de abrir um chamado, confira se a impressora está ligada e sem papel atolado. "
        "No computador, abra Configurações > Impressoras, escolha a impressora do seu andar e "
        "limpe a fila de impressão. Se ela aparecer como offline, remova e adicione de novo "
        "pelo endereço \\\\impressoras\\andar2. Documentos confidenciais ficam retidos até você "
        "aproximar o crachá do leitor.",
    ),
    (
        "pt_BR",
        "Configurar o e-mail corporativo no celular",
        "Outlook no Android e no iPhone, com autenticação em dois fatores.",
        "Instale o aplicativo Microsoft Outlook pela loja do seu celular (Android ou iPhone). "
        "Abra o Outlook, toque em Adicionar conta e informe seu e-mail corporativo. Aprove o "
        "acesso no Microsoft Authenticator e aceite a política de segurança do Intune. O "
        "aplicativo de e-mail nativo do celular não é suportado.",
    ),
    (
        "en",
        "How to connect to the company VPN",
        "Remote access through the VPN: install, connect, frequent drops.",
        "To reach internal systems away from the office, use the corporate VPN. Open the "
        "GlobalProtect app, enter the portal vpn.company.example and sign in with your network "
        "user and password. If the VPN drops every few minutes, switch to a wired network or "
        "to 5 GHz Wi-Fi, turn off other VPNs and update the app to the latest version. If it "
        "says your password expired, reset the password before connecting.",
    ),
    (
        "en",
        "Reset your network password",
        "Forgot your password or did it expire? Change it yourself on the portal.",
        "Your network password is used by your computer, e-mail and the VPN. To reset it, go to "
        "password.company.example, enter your work e-mail and confirm the code sent to your "
        "registered phone. The new password needs at least 12 characters and cannot repeat the "
        "last five. After changing it, update the password on your phone and in Outlook too.",
    ),
    (
        "en",
        "Printer not printing: what to check",
        "Stuck queue, paper jam or printer offline.",
        "Before opening a ticket, check that the printer is on and has no paper jam. On your "
        "computer, open Settings > Printers, choose your floor's printer and clear the print "
        "queue. If it shows as offline, remove it and add it again from \\\\printers\\floor2. "
        "Confidential documents are held until you tap your badge on the reader.",
    ),
    (
        "en",
        "Set up work e-mail on your phone",
        "Outlook on Android and iPhone, with two-factor sign-in.",
        "Install the Microsoft Outlook app from your phone's store (Android or iPhone). Open "
        "Outlook, tap Add account and enter your work e-mail. Approve the sign-in in Microsoft "
        "Authenticator and accept the Intune security policy. The phone's built-in mail app is "
        "not supported.",
    ),
)
