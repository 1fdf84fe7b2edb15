; ClinScribe's Windows installer (NSIS 3). Built on a Windows runner after packaging/build.sh's
; PyInstaller step made dist\clinscribe\ there:
;   makensis /DVERSION=0.1.0 /DBUNDLE=..\..\dist\clinscribe installers\windows\clinscribe.nsi
; -> dist\clinscribe-<version>-setup.exe. Per-machine install into Program Files, a Start-menu
; shortcut, an uninstaller (Apps & features), optional audio file associations ("Open with").
; User data (%LOCALAPPDATA%\ClinScribe) is never removed by the uninstaller.
Unicode true
ManifestDPIAware true
RequestExecutionLevel admin
SetCompressor /SOLID lzma

!ifndef VERSION
  !define VERSION "0.1.0"
!endif
!ifndef BUNDLE
  !define BUNDLE "..\..\dist\clinscribe"
!endif
!ifndef OUTFILE
  !define OUTFILE "..\..\dist\clinscribe-${VERSION}-setup.exe"
!endif
!define APPNAME "ClinScribe"
!define EXE "clinscribe.exe"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\ClinScribe"
!define PROGID "ClinScribe.Recording"

!include "MUI2.nsh"
!include "x64.nsh"

Name "${APPNAME} ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\${APPNAME}"
InstallDirRegKey HKLM "Software\${APPNAME}" "InstallDir"
!define MUI_ICON "..\..\resources\clinscribe.ico"
!define MUI_UNICON "..\..\resources\clinscribe.ico"
!define MUI_FINISHPAGE_RUN "$INSTDIR\${EXE}"

!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

Section "ClinScribe (required)" SecMain
  SectionIn RO
  SetOutPath "$INSTDIR"
  File /r "${BUNDLE}\*.*"
  File "..\..\resources\clinscribe.ico"
  WriteRegStr HKLM "Software\${APPNAME}" "InstallDir" "$INSTDIR"
  WriteUninstaller "$INSTDIR\uninstall.exe"
  CreateDirectory "$SMPROGRAMS\${APPNAME}"
  CreateShortcut "$SMPROGRAMS\${APPNAME}\${APPNAME}.lnk" "$INSTDIR\${EXE}" "" "$INSTDIR\clinscribe.ico"
  CreateShortcut "$SMPROGRAMS\${APPNAME}\Uninstall ${APPNAME}.lnk" "$INSTDIR\uninstall.exe"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayName" "${APPNAME}"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINST_KEY}" "Publisher" "${APPNAME}"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\clinscribe.ico"
  WriteRegStr HKLM "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINST_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKLM "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoRepair" 1
SectionEnd

!macro Assoc EXT
  WriteRegStr HKCR ".${EXT}\OpenWithProgids" "${PROGID}" ""
!macroend
!macro UnAssoc EXT
  DeleteRegValue HKCR ".${EXT}\OpenWithProgids" "${PROGID}"
!macroend

Section /o "Open audio recordings with ClinScribe (wav, mp3, m4a, flac, ogg, webm, amr)" SecAssoc
  ; "Open with" entries only: the user's default player is left as it is
  WriteRegStr HKCR "${PROGID}" "" "Recording for ClinScribe"
  WriteRegStr HKCR "${PROGID}\DefaultIcon" "" "$INSTDIR\clinscribe.ico"
  WriteRegStr HKCR "${PROGID}\shell\open\command" "" '"$INSTDIR\${EXE}" "%1"'
  !insertmacro Assoc "wav"
  !insertmacro Assoc "mp3"
  !insertmacro Assoc "m4a"
  !insertmacro Assoc "flac"
  !insertmacro Assoc "ogg"
  !insertmacro Assoc "webm"
  !insertmacro Assoc "amr"
  WriteRegDWORD HKLM "Software\${APPNAME}" "Associations" 1
  System::Call 'shell32::SHChangeNotify(i 0x08000000, i 0, p 0, p 0)'
SectionEnd

LangString DESC_Main ${LANG_ENGLISH} "The app, its speech and PHI models, Start-menu shortcuts and an uninstaller."
LangString DESC_Assoc ${LANG_ENGLISH} "Adds ClinScribe to 'Open with' for audio files."
!insertmacro MUI_FUNCTION_DESCRIPTION_BEGIN
  !insertmacro MUI_DESCRIPTION_TEXT ${SecMain} $(DESC_Main)
  !insertmacro MUI_DESCRIPTION_TEXT ${SecAssoc} $(DESC_Assoc)
!insertmacro MUI_FUNCTION_DESCRIPTION_END

Function .onInit
  ${IfNot} ${RunningX64}
    MessageBox MB_ICONSTOP "ClinScribe needs 64-bit Windows."
    Abort
  ${EndIf}
  SetRegView 64
FunctionEnd

Function un.onInit
  SetRegView 64
FunctionEnd

Section "Uninstall"
  ; what the installer put there, nothing else (user data in %LOCALAPPDATA%\ClinScribe stays)
  RMDir /r "$INSTDIR\_internal"
  Delete "$INSTDIR\${EXE}"
  Delete "$INSTDIR\clinscribe.ico"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  Delete "$SMPROGRAMS\${APPNAME}\${APPNAME}.lnk"
  Delete "$SMPROGRAMS\${APPNAME}\Uninstall ${APPNAME}.lnk"
  RMDir "$SMPROGRAMS\${APPNAME}"
  !insertmacro UnAssoc "wav"
  !insertmacro UnAssoc "mp3"
  !insertmacro UnAssoc "m4a"
  !insertmacro UnAssoc "flac"
  !insertmacro UnAssoc "ogg"
  !insertmacro UnAssoc "webm"
  !insertmacro UnAssoc "amr"
  DeleteRegKey HKCR "${PROGID}"
  DeleteRegKey HKLM "${UNINST_KEY}"
  DeleteRegKey HKLM "Software\${APPNAME}"
  System::Call 'shell32::SHChangeNotify(i 0x08000000, i 0, p 0, p 0)'
SectionEnd
